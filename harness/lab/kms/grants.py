"""Grants: CreateGrant (with tokens and the per-key quota), ListGrants, RetireGrant, RevokeGrant."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from harness.aws import arns
from harness.aws.operations import GRANT_OPERATIONS  # in the API model's enum order
from harness.lab.errors import AwsError, not_found, validation
from harness.lab.kms.call import KmsCall
from harness.lab.kms.model import Key, LabGrant, new_grant_token, now
from harness.lab.kms.resolve import resolve
from harness.lab.kms.specs import page

if TYPE_CHECKING:
    from harness.lab.kms.service import KmsService

QUOTA_MESSAGE = (
    "The request was rejected because a quota was exceeded: grants per KMS key ({quota})."
)


def _grantee(who: arns.PrincipalArn) -> bool:
    """A principal a grant can name: an account (by its root ARN), role, user, role session or
    service principal (API_CreateGrant.html, GranteePrincipal)."""
    if who.kind == "service":
        return True
    return (
        who.partition == "aws"
        and who.arn.startswith("arn:")
        and (who.kind in ("root", "role", "user", "assumed-role"))
    )


def _check_principal(value: Any, field: str) -> str:
    who = arns.principal(value) if isinstance(value, str) else None
    if who is None or not _grantee(who):
        raise validation(f"Invalid {field}: {value!r} is not a valid principal.")
    return value


def prepare_create_grant(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    p = call.params
    grantee = _check_principal(p.get("GranteePrincipal"), "GranteePrincipal")
    retiring = p.get("RetiringPrincipal")
    if retiring is not None:
        _check_principal(retiring, "RetiringPrincipal")
    operations = p.get("Operations") or []
    if not isinstance(operations, list) or not operations:
        raise validation(
            "1 validation error detected: Value null at 'operations' failed to satisfy constraint: Member must not be null"
        )
    for op in operations:
        if op not in GRANT_OPERATIONS:
            raise validation(
                f"1 validation error detected: Value '[{op}]' at 'operations' failed to satisfy "
                f"constraint: Member must satisfy constraint: [Member must satisfy enum value set: "
                f"[{', '.join(GRANT_OPERATIONS)}]]"
            )
    constraints = p.get("Constraints") or None
    tokens = svc.check_tokens(call)
    ctx: dict[str, Any] = {
        "kms:GranteePrincipal": grantee,
        "kms:GrantOperations": list(operations),
        "kms:GrantIsForAWSResource": bool(call.via_service),
        "_grant_tokens": tokens,
    }
    if retiring:
        ctx["kms:RetiringPrincipal"] = retiring
    if constraints:
        ctx["kms:GrantConstraintType"] = next(iter(constraints))
        pairs = (
            constraints.get("EncryptionContextEquals")
            or constraints.get("EncryptionContextSubset")
            or {}
        )
        for k, v in pairs.items():
            ctx[f"kms:EncryptionContext:{k}"] = v
        if pairs:
            ctx["kms:EncryptionContextKeys"] = sorted(pairs)
    return ctx


def create_grant(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    if found is None:
        raise AssertionError("no key")
    key, p = found, call.params
    grantee = str(p["GranteePrincipal"])
    retiring = p.get("RetiringPrincipal")
    operations = list(p.get("Operations") or [])
    constraints = p.get("Constraints") or None
    if key.manager == "AWS" and not call.via_service:
        raise AwsError("AccessDeniedException", "")
    svc.dry_run(call)
    name = str(p.get("Name") or "")
    with svc.store.lock:
        if name:
            for grant in key.grants:
                if (
                    grant.name == name
                    and grant.grantee == grantee
                    and sorted(grant.operations) == sorted(operations)
                    and grant.constraints == constraints
                    and grant.retiring == retiring
                ):
                    return {"GrantToken": grant.token, "GrantId": grant.grant_id}
        quota = svc.controls.grant_quota_for(key.account)
        if len(key.grants) >= quota:
            raise AwsError("LimitExceededException", QUOTA_MESSAGE.format(quota=quota))
        grant_id = secrets.token_hex(32)
        grant = LabGrant(
            grant_id=grant_id,
            key_arn=key.arn,
            grantee=grantee,
            operations=list(operations),
            issuing_account=call.principal.account,
            created=now(),
            token=new_grant_token(grant_id),
            name=name,
            retiring=retiring,
            constraints=constraints,
        )
        key.grants.append(grant)
        svc.store.grant_tokens[grant.token] = grant
    return {"GrantToken": grant.token, "GrantId": grant.grant_id}


def list_grants(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    if found is None:
        raise AssertionError("no key")
    grant_id = call.params.get("GrantId")
    grantee = call.params.get("GranteePrincipal")
    with svc.store.lock:
        grants = [
            g.describe()
            for g in found.grants
            if (not grant_id or g.grant_id == grant_id) and (not grantee or g.grantee == grantee)
        ]
    return page(grants, call.params, "Grants")


def list_retirable_grants(svc: KmsService, call: KmsCall, _: Key | None) -> dict[str, Any]:
    retiring = call.params.get("RetiringPrincipal")
    with svc.store.lock:
        grants = [
            g.describe()
            for k in svc.store.keys.values()
            for g in k.grants
            if g.retiring == retiring
        ]
    return page(grants, call.params, "Grants")


def _remove(svc: KmsService, grant: LabGrant) -> None:
    with svc.store.lock:
        for key in svc.store.keys.values():
            if key.arn == grant.key_arn and grant in key.grants:
                key.grants.remove(grant)
        svc.store.grant_tokens.pop(grant.token, None)


def _may_retire(call: KmsCall, grant: LabGrant) -> bool:
    names = {call.principal.arn}
    if call.principal.role_arn:
        names.add(call.principal.role_arn)
    if grant.retiring and grant.retiring in names:
        return True
    return grant.grantee in names and "RetireGrant" in grant.operations


def _grant_to_retire(svc: KmsService, call: KmsCall) -> LabGrant:
    """The grant a RetireGrant names: by its token, or by key and grant id. An operator's
    key is authorized on the way (AWS managed keys hold operators to their policy)."""
    route = svc.routes["RetireGrant"]
    token = call.params.get("GrantToken")
    if token:
        grant = svc.store.grant_tokens.get(token)
        if grant is None:
            raise AwsError("InvalidGrantTokenException", "The grant token is invalid.")
        call.resources.append(grant.key_arn)
        return grant
    if not call.params.get("KeyId") or not call.params.get("GrantId"):
        raise validation("Grant token OR (grant ID, key ID) must be specified")
    if call.principal.operator:
        key = svc.key_for(call, route, call.params.get("KeyId"), state_check=False).key
    else:
        with svc.store.lock:
            key = resolve(svc.store, call.principal.account, call.region, call.params["KeyId"]).key
        call.resources.append(key.arn)
    found = next((g for g in key.grants if g.grant_id == call.params.get("GrantId")), None)
    if found is None:
        raise not_found(f"Grant ID {call.params.get('GrantId')} not found")
    return found


def retire_grant(svc: KmsService, call: KmsCall, _: Key | None) -> dict[str, Any]:
    route = svc.routes["RetireGrant"]
    grant = _grant_to_retire(svc, call)
    if not call.principal.operator and not _may_retire(call, grant):
        with svc.store.lock:
            key = next((k for k in svc.store.keys.values() if k.arn == grant.key_arn), None)
        if key is not None:
            svc.authorize(call, route, key, {})
    if not call.authorized:
        # grant-manage.html: the retiring principal, or a grantee allowed RetireGrant, retires
        # the grant on the grant's own authority (an operator, as the account's root user).
        svc.authorized_by_grant(call, route)
    _remove(svc, grant)
    return {}


def revoke_grant(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    if found is None:
        raise AssertionError("no key")
    grant_id = call.params.get("GrantId")
    grant = next((g for g in found.grants if g.grant_id == grant_id), None)
    if grant is None:
        raise not_found(f"Grant ID {grant_id} not found")
    _remove(svc, grant)
    return {}
