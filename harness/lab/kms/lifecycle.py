"""Key lifecycle, policies, aliases, tags, rotation and multi-Region replication."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from harness.aws.operations import KEY_SPEC_USAGES
from harness.lab.errors import AwsError, not_found, validation
from harness.lab.kms.call import KmsCall
from harness.lab.kms.crypto import Material
from harness.lab.kms.model import (
    Alias,
    Key,
    MultiRegion,
    alias_arn,
    key_arn,
    new_key_id,
    now,
)
from harness.lab.kms.resolve import resolve
from harness.lab.kms.service import KmsService, default_policy_text, ts

ORIGINS = ("AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE")


def _tags(call: KmsCall) -> dict[str, str]:
    tags = call.params.get("Tags") or []
    out = {}
    for tag in tags:
        if not isinstance(tag, dict) or "TagKey" not in tag:
            raise validation("Each tag needs a TagKey and a TagValue.")
        if str(tag["TagKey"]).startswith("aws:"):
            raise AwsError("TagException", "Tags beginning with aws: are reserved.")
        out[str(tag["TagKey"])] = str(tag.get("TagValue", ""))
    return out


def _tag_context(tags: dict[str, str]) -> dict[str, Any]:
    ctx: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags:
        ctx["aws:TagKeys"] = sorted(tags)
    return ctx


def op_CreateKey(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    p = call.params
    spec = p.get("KeySpec") or p.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    if spec not in KEY_SPEC_USAGES:
        raise validation(
            f"1 validation error detected: Value '{spec}' at 'keySpec' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(KEY_SPEC_USAGES)}]"
        )
    usage = p.get("KeyUsage") or KEY_SPEC_USAGES[spec][0]
    if usage not in KEY_SPEC_USAGES[spec]:
        raise validation(f"KeyUsage {usage} is not compatible with KeySpec {spec}")
    origin = p.get("Origin") or ("AWS_CLOUDHSM" if p.get("CustomKeyStoreId") else "AWS_KMS")
    if origin not in ORIGINS:
        raise validation(f"Invalid origin {origin}")
    multi = bool(p.get("MultiRegion"))
    tags = _tags(call)
    ctx: dict[str, Any] = {
        "kms:KeySpec": spec,
        "kms:KeyUsage": usage,
        "kms:KeyOrigin": origin,
        "kms:MultiRegion": multi,
        "kms:MultiRegionKeyType": "PRIMARY" if multi else None,
        "kms:BypassPolicyLockoutSafetyCheck": bool(p.get("BypassPolicyLockoutSafetyCheck")),
        **_tag_context(tags),
    }
    svc.authorize(
        call,
        None,
        "kms:CreateKey",
        {k: v for k, v in ctx.items() if v is not None},
        by_ciphertext=False,
    )
    store_id = p.get("CustomKeyStoreId")
    if store_id:
        store = svc.store.stores.get(store_id)
        if store is None or store.account != call.principal.account or store.region != call.region:
            raise AwsError(
                "CustomKeyStoreNotFoundException", f"Custom key store {store_id} not found."
            )
        if svc.connection(store)["ConnectionState"] != "CONNECTED":
            raise AwsError(
                "CustomKeyStoreInvalidStateException",
                f"Custom key store {store_id} is not connected.",
            )
        if spec != "SYMMETRIC_DEFAULT":
            raise AwsError(
                "UnsupportedOperationException", "Custom key stores support only symmetric keys."
            )
        origin = "AWS_CLOUDHSM" if store.store_type == "AWS_CLOUDHSM" else "EXTERNAL_KEY_STORE"
    if (
        origin == "EXTERNAL"
        and spec != "SYMMETRIC_DEFAULT"
        and not spec.startswith(("RSA", "ECC", "HMAC"))
    ):
        raise AwsError(
            "UnsupportedOperationException", f"{spec} keys cannot have imported material."
        )
    if multi and store_id:
        raise AwsError(
            "UnsupportedOperationException", "Multi-Region keys cannot be in a custom key store."
        )
    account = call.principal.account
    key_id = new_key_id(multi)
    policy = p.get("Policy")
    if policy is None:
        policy = default_policy_text(account)
    else:
        bypass = bool(p.get("BypassPolicyLockoutSafetyCheck"))
        svc.check_policy(call, policy, bypass, key_arn(call.region, account, key_id))
    key = Key(
        account=account,
        region=call.region,
        key_id=key_id,
        spec=spec,
        usage=usage,
        origin=origin,
        material=None if origin == "EXTERNAL" else Material.generate(spec),
        description=str(p.get("Description") or ""),
        state="PendingImport" if origin == "EXTERNAL" else "Enabled",
        policy=policy,
        tags=tags,
        multi_region=MultiRegion(call.region, [call.region]) if multi else None,
        custom_key_store_id=store_id,
    )
    with svc.store.lock:
        svc.store.add_key(key)
    call.resources.append(key.arn)
    call.key_account = account
    return {"KeyMetadata": svc.metadata(key)}


def op_DescribeKey(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    svc.check_tokens(call)
    key = svc.key_for(call, call.params.get("KeyId"), "kms:DescribeKey").key
    return {"KeyMetadata": svc.metadata(key)}


def _set_state(svc: KmsService, call: KmsCall, action: str, state: str) -> dict[str, Any]:
    key = svc.key_for(call, call.params.get("KeyId"), action).key
    with svc.store.lock:
        if key.state in ("Enabled", "Disabled"):
            key.state = state
    return {}


def op_EnableKey(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    return _set_state(svc, call, "kms:EnableKey", "Enabled")


def op_DisableKey(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    return _set_state(svc, call, "kms:DisableKey", "Disabled")


def _int_between(call: KmsCall, name: str, default: int, low: int, high: int) -> int:
    """An integer parameter checked the way AWS's request validation words it."""
    value = call.params.get(name)
    value = default if value is None else value
    if not isinstance(value, int) or not low <= value <= high:
        field = name[0].lower() + name[1:]
        raise validation(
            f"1 validation error detected: Value at '{field}' failed to satisfy "
            f"constraint: Member must have value between {low} and {high}"
        )
    return value


def op_ScheduleKeyDeletion(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    days = _int_between(call, "PendingWindowInDays", 30, 7, 30)
    key = svc.key_for(
        call,
        call.params.get("KeyId"),
        "kms:ScheduleKeyDeletion",
        {"kms:ScheduleKeyDeletionPendingWindowInDays": days},
    ).key
    with svc.store.lock:
        mr = key.multi_region
        replicas = (
            [r for r in mr.regions if r != key.region and svc.store.get(key.account, r, key.key_id)]
            if mr is not None and mr.primary_region == key.region
            else []
        )
        # multi-region-keys-delete.html: a primary with replicas waits in PendingReplicaDeletion.
        key.state = "PendingReplicaDeletion" if replicas else "PendingDeletion"
        key.pending_window = days
        key.deletion_date = now() + dt.timedelta(days=days)
    return {
        "KeyId": key.arn,
        "DeletionDate": ts(key.deletion_date),
        "KeyState": key.state,
        "PendingWindowInDays": days,
    }


def op_CancelKeyDeletion(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    key = svc.key_for(call, call.params.get("KeyId"), "kms:CancelKeyDeletion").key
    with svc.store.lock:
        key.state = "Disabled"
        key.deletion_date = None
        key.pending_window = None
    return {"KeyId": key.arn}


def op_GetKeyPolicy(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    name = call.params.get("PolicyName") or "default"
    key = svc.key_for(call, call.params.get("KeyId"), "kms:GetKeyPolicy").key
    if name != "default":
        raise not_found("No such policy exists")
    return {"Policy": key.policy, "PolicyName": "default"}


def op_ListKeyPolicies(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    svc.key_for(call, call.params.get("KeyId"), "kms:ListKeyPolicies")
    return {"PolicyNames": ["default"], "Truncated": False}


def op_PutKeyPolicy(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    name = call.params.get("PolicyName") or "default"
    bypass = bool(call.params.get("BypassPolicyLockoutSafetyCheck"))
    key = svc.key_for(
        call,
        call.params.get("KeyId"),
        "kms:PutKeyPolicy",
        {"kms:BypassPolicyLockoutSafetyCheck": bypass},
    ).key
    if name != "default":
        raise not_found("No such policy exists")
    policy = call.params.get("Policy")
    svc.check_policy(call, policy, bypass, key.arn)
    with svc.store.lock:
        key.policy = str(policy)
    return {}


def _page(items: list[Any], call: KmsCall, name: str) -> dict[str, Any]:
    limit = call.params.get("Limit") or 100
    start = (
        int(call.params.get("Marker") or 0)
        if str(call.params.get("Marker") or "0").isdigit()
        else 0
    )
    page = items[start : start + limit]
    out: dict[str, Any] = {name: page, "Truncated": start + limit < len(items)}
    if out["Truncated"]:
        out["NextMarker"] = str(start + limit)
    return out


def op_ListKeys(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    svc.authorize(call, None, "kms:ListKeys", {}, by_ciphertext=False)
    with svc.store.lock:
        keys = sorted(
            svc.store.keys_in(call.principal.account, call.region), key=lambda k: k.created
        )
    return _page([{"KeyId": k.key_id, "KeyArn": k.arn} for k in keys], call, "Keys")


def _alias_entry(call: KmsCall, account: str, alias: Alias) -> dict[str, Any]:
    return {
        "AliasName": alias.name,
        "AliasArn": alias_arn(call.region, account, alias.name),
        "TargetKeyId": alias.target,
        "CreationDate": ts(alias.created),
        "LastUpdatedDate": ts(alias.updated),
    }


def op_ListAliases(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    account = call.principal.account
    target = None
    # kms:ListAliases is an IAM-policy-only permission on "*", with or without KeyId
    # (API_ListAliases.html "Required permissions"; the Service Authorization Reference lists no
    # resource type for it): the key filters the answer, its key policy does not decide.
    svc.authorize(call, None, "kms:ListAliases", {}, by_ciphertext=False)
    if call.params.get("KeyId"):
        with svc.store.lock:
            key = resolve(svc.store, account, call.region, call.params["KeyId"]).key
        if key.account != account:
            raise AwsError("AccessDeniedException", "")
        target = key.key_id
    with svc.store.lock:
        aliases = sorted(svc.store.aliases_in(account, call.region), key=lambda a: a.name)
    entries = [
        _alias_entry(call, account, a) for a in aliases if target is None or a.target == target
    ]
    return _page(entries, call, "Aliases")


def _check_alias_name(name: Any) -> str:
    if not isinstance(name, str) or not name.startswith("alias/") or len(name) <= 6:
        raise validation(
            "1 validation error detected: Value at 'aliasName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$"
        )
    if name.startswith("alias/aws/"):
        raise AwsError("NotAuthorizedException", "")
    if not re.match(r"^alias/[a-zA-Z0-9/_-]+$", name):
        raise validation(
            "1 validation error detected: Value at 'aliasName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$"
        )
    return name


def op_CreateAlias(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    name = _check_alias_name(call.params.get("AliasName"))
    target = call.params.get("TargetKeyId") or ""
    key = svc.key_for(call, target, "kms:CreateAlias").key
    account = call.principal.account
    if key.account != account:
        raise not_found(f"Key '{target}' does not exist")
    with svc.store.lock:
        if (account, call.region, name) in svc.store.aliases:
            raise AwsError(
                "AlreadyExistsException",
                f"An alias with the name {alias_arn(call.region, account, name)} already exists",
            )
        svc.store.aliases[(account, call.region, name)] = Alias(name, key.key_id)
    call.resources.insert(0, alias_arn(call.region, account, name))
    return {}


def op_UpdateAlias(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    name = _check_alias_name(call.params.get("AliasName"))
    account = call.principal.account
    alias = svc.store.aliases.get((account, call.region, name))
    if alias is None:
        raise not_found(f"Alias {alias_arn(call.region, account, name)} is not found.")
    key = svc.key_for(call, call.params.get("TargetKeyId"), "kms:UpdateAlias").key
    old = svc.store.get(account, call.region, alias.target)
    if old is not None and (old.usage != key.usage or old.spec != key.spec):
        raise validation(
            f"Alias {name} cannot be updated to a key of a different key spec or key usage."
        )
    with svc.store.lock:
        alias.target = key.key_id
        alias.updated = now()
    call.resources.insert(0, alias_arn(call.region, account, name))
    return {}


def op_DeleteAlias(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    name = _check_alias_name(call.params.get("AliasName"))
    account = call.principal.account
    arn = alias_arn(call.region, account, name)
    with svc.store.lock:
        alias = svc.store.aliases.get((account, call.region, name))
    if alias is None:
        raise not_found(f"Alias {arn} is not found.")
    key = svc.store.get(account, call.region, alias.target)
    if key is not None:
        svc.key_for(call, key.arn, "kms:DeleteAlias")
    with svc.store.lock:
        svc.store.aliases.pop((account, call.region, name), None)
    call.resources.insert(0, arn)
    return {}


def op_TagResource(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    tags = _tags(call)
    key = svc.key_for(call, call.params.get("KeyId"), "kms:TagResource", _tag_context(tags)).key
    with svc.store.lock:
        key.tags.update(tags)
    return {}


def op_UntagResource(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    names = [str(n) for n in call.params.get("TagKeys") or []]
    key = svc.key_for(
        call, call.params.get("KeyId"), "kms:UntagResource", {"aws:TagKeys": names}
    ).key
    with svc.store.lock:
        for name in names:
            key.tags.pop(name, None)
    return {}


def op_ListResourceTags(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    key = svc.key_for(call, call.params.get("KeyId"), "kms:ListResourceTags").key
    tags = [{"TagKey": k, "TagValue": v} for k, v in sorted(key.tags.items())]
    return _page(tags, call, "Tags")


def op_UpdateKeyDescription(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    key = svc.key_for(call, call.params.get("KeyId"), "kms:UpdateKeyDescription").key
    with svc.store.lock:
        key.description = str(call.params.get("Description") or "")
    return {}


def _rotatable(key: Key) -> None:
    if key.spec != "SYMMETRIC_DEFAULT" or key.origin != "AWS_KMS" or key.manager == "AWS":
        raise AwsError(
            "UnsupportedOperationException",
            f"{key.arn} origin is {key.origin} which is not valid for this operation.",
        )


def op_EnableKeyRotation(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    period = _int_between(call, "RotationPeriodInDays", 365, 90, 2560)
    key = svc.key_for(
        call,
        call.params.get("KeyId"),
        "kms:EnableKeyRotation",
        {"kms:RotationPeriodInDays": period},
    ).key
    _rotatable(key)
    with svc.store.lock:
        key.rotation_enabled = True
        key.rotation_period = period
    return {}


def op_DisableKeyRotation(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    key = svc.key_for(call, call.params.get("KeyId"), "kms:DisableKeyRotation").key
    _rotatable(key)
    with svc.store.lock:
        key.rotation_enabled = False
    return {}


def op_GetKeyRotationStatus(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    key = svc.key_for(call, call.params.get("KeyId"), "kms:GetKeyRotationStatus").key
    out: dict[str, Any] = {"KeyRotationEnabled": key.rotation_enabled, "KeyId": key.arn}
    if key.rotation_enabled:
        out["RotationPeriodInDays"] = key.rotation_period
        out["NextRotationDate"] = ts(key.created + dt.timedelta(days=key.rotation_period))
    return out


def op_RotateKeyOnDemand(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    key = svc.key_for(call, call.params.get("KeyId"), "kms:RotateKeyOnDemand").key
    _rotatable(key)
    fresh = Material.generate("SYMMETRIC_DEFAULT")
    with svc.store.lock:
        assert key.material is not None
        key.material.versions.append(fresh.versions[0])
        key.rotations.append(now())
    return {"KeyId": key.arn}


def op_ListKeyRotations(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    key = svc.key_for(call, call.params.get("KeyId"), "kms:ListKeyRotations").key
    rotations = [
        {"KeyId": key.arn, "RotationDate": ts(d), "RotationType": "ON_DEMAND"}
        for d in key.rotations
    ]
    return _page(rotations, call, "Rotations")


def op_ReplicateKey(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    region = call.params.get("ReplicaRegion") or ""
    tags = _tags(call)
    key = svc.key_for(
        call,
        call.params.get("KeyId"),
        "kms:ReplicateKey",
        {"kms:ReplicaRegion": region, **_tag_context(tags)},
    ).key
    if key.multi_region is None or key.multi_region.primary_region != key.region:
        raise AwsError(
            "UnsupportedOperationException", f"{key.arn} is not a multi-region primary key."
        )
    if region == key.region or not region:
        raise validation(f"Invalid replica region {region}")
    with svc.store.lock:
        if svc.store.get(key.account, region, key.key_id) is not None:
            raise AwsError(
                "AlreadyExistsException",
                f"Replica key {key.key_id} already exists in {region}.",
            )
    policy = call.params.get("Policy")
    if policy is None:
        policy = default_policy_text(key.account)
    else:
        bypass = bool(call.params.get("BypassPolicyLockoutSafetyCheck"))
        svc.check_policy(call, policy, bypass, key_arn(region, key.account, key.key_id))
    replica = Key(
        account=key.account,
        region=region,
        key_id=key.key_id,
        spec=key.spec,
        usage=key.usage,
        origin=key.origin,
        material=key.material,
        description=str(call.params.get("Description") or ""),
        state="Enabled" if key.origin != "EXTERNAL" else "PendingImport",
        policy=policy,
        tags=tags,
        multi_region=key.multi_region,
        rotation_enabled=key.rotation_enabled,
    )
    with svc.store.lock:
        key.multi_region.regions.append(region)
        svc.store.add_key(replica)
    call.resources.append(replica.arn)
    return {
        "ReplicaKeyMetadata": svc.metadata(replica),
        "ReplicaPolicy": policy,
        "ReplicaTags": [{"TagKey": k, "TagValue": v} for k, v in tags.items()],
    }


def op_UpdatePrimaryRegion(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    region = call.params.get("PrimaryRegion") or ""
    key = svc.key_for(
        call, call.params.get("KeyId"), "kms:UpdatePrimaryRegion", {"kms:PrimaryRegion": region}
    ).key
    mr = key.multi_region
    if mr is None or mr.primary_region != key.region:
        raise AwsError(
            "UnsupportedOperationException", f"{key.arn} is not a multi-region primary key."
        )
    if region not in mr.regions:
        raise not_found(f"Key '{key.arn.replace(key.region, region, 1)}' does not exist")
    with svc.store.lock:
        mr.primary_region = region
    return {}
