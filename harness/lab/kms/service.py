"""KMS operations of the lab: one dispatch over the route table (routes.py), one
authorization step, and the steps every operation shares.

Every key operation runs in this order: validate what AWS validates first (the route's
`prepare`), resolve the key (NotFound shapes), authorize the caller (skipped for operator
credentials but on AWS managed keys), check the key state (applies to everyone), then the
handler checks key usage and does the work (IncorrectKey, InvalidCiphertext).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from harness.aws.errors import KmsAccessDenied
from harness.aws.operations import CROSS_ACCOUNT_OPERATIONS, USAGE_OF_OPERATION
from harness.lab.controls import Controls
from harness.lab.errors import AwsError, access_denied, validation
from harness.lab.kms import crypto, keystate
from harness.lab.kms.call import Authorizer, KmsCall, PrincipalCheck, ServiceEvent
from harness.lab.kms.model import Key, KmsStore, LabGrant, now
from harness.lab.kms.policycheck import validate_key_policy
from harness.lab.kms.resolve import ResolvedKey, resolve
from harness.lab.kms.routes import ROUTES, Auth, Resource, Route
from harness.lab.kms.specs import (
    ECC_SIGNING,
    RSA_ENCRYPTION,
    RSA_SIGNING,
    SYMMETRIC_ALGORITHMS,
    ts,
)


def unknown_operation(operation: str) -> AwsError:
    """AWS's JSON protocol answer to a target it has no operation for (HTTP 400)."""
    return AwsError("UnknownOperationException", f"The lab does not implement kms:{operation}")


class KmsService:
    """The KMS API of the lab over a KmsStore."""

    def __init__(
        self,
        store: KmsStore,
        controls: Controls,
        authorize: Authorizer,
        principal_exists: PrincipalCheck,
        service_event: ServiceEvent,
    ) -> None:
        self.store = store
        self.controls = controls
        self.authorizer = authorize
        self.principal_exists = principal_exists
        self.service_event = service_event
        self.routes = ROUTES

    # dispatch --------------------------------------------------------------------------------
    def handle(self, call: KmsCall) -> dict[str, Any]:
        route = self.routes.get(call.operation)
        if route is None:
            raise unknown_operation(call.operation)
        ctx = route.prepare(self, call) if route.prepare is not None else {}
        key: Key | None = None
        if route.resource is Resource.NONE:
            self.authorize(call, route, None, ctx)
        elif route.resource is Resource.KEY:
            given = call.params.get(route.key_param)
            key = self.key_for(call, route, given, ctx, state_check=route.state_check).key
        elif route.resource is Resource.CIPHERTEXT:
            key = self.key_of_ciphertext(call, route, ctx)
        elif route.resource is Resource.ALIAS:
            key = self.key_of_alias(call, route, ctx)
        result = route.handler(self, call, key)
        if not call.authorized:
            # A handler that finds its own resource (Resource.GRANT) must still authorize.
            raise AwsError("InternalFailure", f"lab: kms:{call.operation} was not authorized", 500)
        return result

    # the one authorization step --------------------------------------------------------------
    def authorize(
        self,
        call: KmsCall,
        route: Route,
        key: Key | None,
        ctx: dict[str, Any],
        *,
        action: str | None = None,
        by_ciphertext: bool = False,
    ) -> None:
        """Decide the request as AWS would for the route's action, resource and mode; raises
        AccessDeniedException. Every served operation is authorized here."""
        wanted = action or route.action
        if wanted not in route.actions:
            raise AssertionError(f"{wanted} is not an action of kms:{route.operation}")
        on_key = None if route.auth is Auth.IAM_ONLY else key
        self.authorizer(call, on_key, wanted, ctx, by_ciphertext=by_ciphertext)
        call.authorized.append(wanted)

    def authorized_by_grant(self, call: KmsCall, route: Route) -> None:
        """RetireGrant by the grant's retiring principal or its grantee (grant-manage.html):
        the grant itself is the permission, no policy is read."""
        if route.auth is not Auth.RETIRING_PRINCIPAL:
            raise AssertionError(f"kms:{route.operation} cannot be authorized by a grant")
        call.authorized.append(route.action)

    # resolving the key -----------------------------------------------------------------------
    def key_for(
        self,
        call: KmsCall,
        route: Route,
        given: str | None,
        context: dict[str, Any] | None = None,
        *,
        action: str | None = None,
        state_check: bool = True,
    ) -> ResolvedKey:
        """Resolve, authorize and state-check the key a request names."""
        action = action or route.action
        with self.store.lock:
            resolved = resolve(self.store, call.principal.account, call.region, given or "")
        key = resolved.key
        call.resources.append(key.arn)
        call.key_account = key.account
        if key.account != call.principal.account and call.operation not in CROSS_ACCOUNT_OPERATIONS:
            raise access_denied(
                f"User: {call.principal.arn} is not authorized to perform: {action} on resource: "
                f"{key.arn} because no resource-based policy allows the {action} action"
            )
        ctx = dict(context or {})
        if resolved.alias:
            ctx.setdefault("kms:RequestAlias", resolved.alias)
        self.authorize(call, route, key, ctx, action=action)
        if state_check:
            keystate.check(call.operation, key.arn, self.state_of(key))
        return resolved

    def key_of_ciphertext(self, call: KmsCall, route: Route, ctx: dict[str, Any]) -> Key:
        """The key `route.key_param` names, or else the key the ciphertext names."""
        given = call.params.get(route.key_param)
        if given:
            return self.key_for(call, route, given, ctx).key
        try:
            account, key_id, _, _ = crypto.read_header(call.blob("CiphertextBlob"))
        except crypto.CiphertextError as exc:
            raise AwsError("InvalidCiphertextException", "") from exc
        with self.store.lock:
            key = self.store.get(account, call.region, key_id)
        if key is None or (
            key.account != call.principal.account and call.operation not in CROSS_ACCOUNT_OPERATIONS
        ):
            raise KmsAccessDenied()
        call.resources.append(key.arn)
        call.key_account = key.account
        self.authorize(call, route, key, ctx, by_ciphertext=True)
        keystate.check(call.operation, key.arn, self.state_of(key))
        return key

    def key_of_alias(self, call: KmsCall, route: Route, ctx: dict[str, Any]) -> Key | None:
        """The key an existing alias points to, authorized; an alias whose key is gone is
        decided by IAM alone (there is no key policy left to ask)."""
        account = call.principal.account
        with self.store.lock:
            alias = self.store.aliases.get((account, call.region, call.params["AliasName"]))
            key = self.store.get(account, call.region, alias.target) if alias else None
        if key is None:
            self.authorizer(call, None, route.action, ctx, by_ciphertext=False)
            call.authorized.append(route.action)
            return None
        return self.key_for(call, route, key.arn, ctx).key

    # shared steps ----------------------------------------------------------------------------
    def state_of(self, key: Key) -> str:
        forced = self.controls.key_state(key.arn)
        if forced:
            return forced
        with self.store.lock:
            self._expire_material(key)
            if key.custom_key_store_id and key.state not in ("PendingDeletion",):
                store = self.store.stores.get(key.custom_key_store_id)
                if store is not None and self.connection(store)["ConnectionState"] != "CONNECTED":
                    return "Unavailable"
            return key.state

    def connection(self, store: Any) -> dict[str, Any]:
        override = self.controls.store_override(store.store_id, store.name)
        if override:
            return override
        out = {"ConnectionState": store.state}
        if store.error_code:
            out["ConnectionErrorCode"] = store.error_code
        return out

    def _expire_material(self, key: Key) -> None:
        if (
            key.expiration_model == "KEY_MATERIAL_EXPIRES"
            and key.valid_to is not None
            and key.valid_to <= now()
            and key.state in ("Enabled", "Disabled")
        ):
            key.state = "PendingImport"
            key.material = None
            key.valid_to = None
            self.service_event(key, "DeleteExpiredKeyMaterial", {"keyId": key.arn})

    def check_usage(self, key: Key, operation: str) -> None:
        wanted = USAGE_OF_OPERATION.get(operation)
        if wanted and key.usage != wanted:
            raise AwsError(
                "InvalidKeyUsageException",
                f"{key.arn} key usage is {key.usage} which is not valid for {operation}.",
            )
        if (
            operation.startswith("GenerateDataKey")
            and "Pair" not in operation
            and key.spec != "SYMMETRIC_DEFAULT"
        ):
            raise AwsError(
                "InvalidKeyUsageException",
                f"{key.arn} key spec is {key.spec} which is not valid for {operation}.",
            )

    def check_tokens(self, call: KmsCall) -> list[str]:
        tokens = call.params.get("GrantTokens") or []
        if not isinstance(tokens, list) or len(tokens) > 10:
            raise validation(
                "1 validation error detected: Value at 'grantTokens' failed to satisfy "
                "constraint: Member must have length less than or equal to 10"
            )
        with self.store.lock:
            for token in tokens:
                if token not in self.store.grant_tokens:
                    raise AwsError("InvalidGrantTokenException", "The grant token is invalid.")
        return [str(t) for t in tokens]

    def effective_grants(self, key: Key, tokens: list[str]) -> list[LabGrant]:
        """Grants that count for this request: propagated, or named by a token passed."""
        delay = self.controls.grant_propagation_for(key.account)
        cutoff = now() - dt.timedelta(seconds=delay)
        with self.store.lock:
            token_ids = {
                self.store.grant_tokens[t].grant_id for t in tokens if t in self.store.grant_tokens
            }
            return [
                g
                for g in key.grants
                if not g.orphaned and (g.created <= cutoff or g.grant_id in token_ids)
            ]

    def orphan_principal(self, arn: str, unique_id: str) -> None:
        """A deleted role or user: key policies now show its unique id and its grants stop
        working, as in AWS (reference_policies_elements_principal.html: a recreated principal
        with the same name is a different principal)."""
        quoted = json.dumps(arn)
        with self.store.lock:
            for key in self.store.keys.values():
                if quoted in key.policy:
                    key.policy = key.policy.replace(quoted, json.dumps(unique_id))
                for grant in key.grants:
                    if grant.grantee == arn:
                        grant.orphaned = True

    def dry_run(self, call: KmsCall) -> None:
        if call.params.get("DryRun"):
            raise AwsError(
                "DryRunOperationException",
                "The request would have succeeded, but the DryRun option is set.",
            )

    def metadata(self, key: Key) -> dict[str, Any]:
        state = self.state_of(key)
        meta: dict[str, Any] = {
            "AWSAccountId": key.account,
            "KeyId": key.key_id,
            "Arn": key.arn,
            "CreationDate": ts(key.created),
            "Enabled": state == "Enabled",
            "Description": key.description,
            "KeyUsage": key.usage,
            "KeyState": state,
            "Origin": key.origin,
            "KeyManager": key.manager,
            "CustomerMasterKeySpec": key.spec,
            "KeySpec": key.spec,
            "MultiRegion": key.multi_region is not None,
        }
        if key.usage == "ENCRYPT_DECRYPT":
            meta["EncryptionAlgorithms"] = (
                SYMMETRIC_ALGORITHMS if key.spec == "SYMMETRIC_DEFAULT" else RSA_ENCRYPTION
            )
        if key.usage == "SIGN_VERIFY":
            meta["SigningAlgorithms"] = (
                RSA_SIGNING if key.spec.startswith("RSA") else ECC_SIGNING[key.spec]
            )
        if key.usage == "GENERATE_VERIFY_MAC":
            meta["MacAlgorithms"] = [f"HMAC_SHA_{key.spec.split('_')[1]}"]
        if key.usage == "KEY_AGREEMENT":
            meta["KeyAgreementAlgorithms"] = ["ECDH"]
        if key.deletion_date and state in ("PendingDeletion", "PendingReplicaDeletion"):
            meta["DeletionDate"] = ts(key.deletion_date)
            meta["PendingDeletionWindowInDays"] = key.pending_window
        if key.origin == "EXTERNAL":
            if key.expiration_model:
                meta["ExpirationModel"] = key.expiration_model
            if key.valid_to:
                meta["ValidTo"] = ts(key.valid_to)
        if key.custom_key_store_id:
            meta["CustomKeyStoreId"] = key.custom_key_store_id
            store = self.store.stores.get(key.custom_key_store_id)
            if store is not None and store.cluster_id:
                meta["CloudHsmClusterId"] = store.cluster_id
        if key.multi_region is not None:
            mr = key.multi_region
            arn = lambda region: key.arn.replace(f":{key.region}:", f":{region}:", 1)  # noqa: E731
            meta["MultiRegionConfiguration"] = {
                "MultiRegionKeyType": "PRIMARY" if mr.primary_region == key.region else "REPLICA",
                "PrimaryKey": {"Arn": arn(mr.primary_region), "Region": mr.primary_region},
                "ReplicaKeys": [
                    {"Arn": arn(r), "Region": r} for r in mr.regions if r != mr.primary_region
                ],
            }
        return meta

    def check_policy(self, call: KmsCall, policy: Any, bypass: bool, key_arn: str) -> None:
        validate_key_policy(
            policy,
            call.principal,
            key_arn,
            bypass,
            self.principal_exists,
            self.authorizer.lockout_allows,
        )
