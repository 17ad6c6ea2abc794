"""Key lifecycle: creation, description, enabling, deletion, key policies, rotation and
multi-Region replication.

Handlers get the key already resolved, authorized and state-checked (routes.py); each
`prepare_*` validates what AWS refuses before authorization and returns condition keys.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from harness.aws.errors import NotFound
from harness.aws.operations import KEY_SPEC_USAGES
from harness.aws.policies import default_key_policy
from harness.lab.errors import AwsError, not_found, validation
from harness.lab.kms.aliases import tag_context, tags_of
from harness.lab.kms.call import KmsCall
from harness.lab.kms.crypto import Material
from harness.lab.kms.model import Key, MultiRegion, key_arn, new_key_id, now
from harness.lab.kms.specs import page, ts

if TYPE_CHECKING:
    from harness.lab.kms.service import KmsService

ORIGINS = ("AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE")


def _must(key: Key | None) -> Key:
    if key is None:  # the route resolves a key before any handler that takes one runs
        raise AssertionError("no key")
    return key


def _policy_or_default(svc: KmsService, call: KmsCall, account: str, arn: str) -> str:
    policy = call.params.get("Policy")
    if policy is None:
        return json.dumps(default_key_policy(account))
    svc.check_policy(call, policy, bool(call.params.get("BypassPolicyLockoutSafetyCheck")), arn)
    return str(policy)


# CreateKey, DescribeKey, ListKeys ----------------------------------------------------------------
def prepare_create_key(svc: KmsService, call: KmsCall) -> dict[str, Any]:
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
    ctx: dict[str, Any] = {
        "kms:KeySpec": spec,
        "kms:KeyUsage": usage,
        "kms:KeyOrigin": origin,
        "kms:MultiRegion": multi,
        "kms:MultiRegionKeyType": "PRIMARY" if multi else None,
        "kms:BypassPolicyLockoutSafetyCheck": bool(p.get("BypassPolicyLockoutSafetyCheck")),
        **tag_context(tags_of(call)),
    }
    return {k: v for k, v in ctx.items() if v is not None}


def create_key(svc: KmsService, call: KmsCall, _: Key | None) -> dict[str, Any]:
    p = call.params
    spec = p.get("KeySpec") or p.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    usage = p.get("KeyUsage") or KEY_SPEC_USAGES[spec][0]
    origin = p.get("Origin") or ("AWS_CLOUDHSM" if p.get("CustomKeyStoreId") else "AWS_KMS")
    multi = bool(p.get("MultiRegion"))
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
    policy = _policy_or_default(svc, call, account, key_arn(call.region, account, key_id))
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
        tags=tags_of(call),
        multi_region=MultiRegion(call.region, [call.region]) if multi else None,
        custom_key_store_id=store_id,
    )
    with svc.store.lock:
        svc.store.add_key(key)
    call.resources.append(key.arn)
    call.key_account = account
    return {"KeyMetadata": svc.metadata(key)}


def prepare_tokens(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    svc.check_tokens(call)
    return {}


def describe_key(svc: KmsService, call: KmsCall, key: Key | None) -> dict[str, Any]:
    return {"KeyMetadata": svc.metadata(_must(key))}


def list_keys(svc: KmsService, call: KmsCall, _: Key | None) -> dict[str, Any]:
    with svc.store.lock:
        keys = sorted(
            svc.store.keys_in(call.principal.account, call.region), key=lambda k: k.created
        )
    return page([{"KeyId": k.key_id, "KeyArn": k.arn} for k in keys], call.params, "Keys")


# EnableKey, DisableKey, deletion -----------------------------------------------------------------
def _set_state(svc: KmsService, key: Key, state: str) -> dict[str, Any]:
    with svc.store.lock:
        if key.state in ("Enabled", "Disabled"):
            key.state = state
    return {}


def enable_key(svc: KmsService, call: KmsCall, key: Key | None) -> dict[str, Any]:
    return _set_state(svc, _must(key), "Enabled")


def disable_key(svc: KmsService, call: KmsCall, key: Key | None) -> dict[str, Any]:
    return _set_state(svc, _must(key), "Disabled")


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


def prepare_deletion(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    days = _int_between(call, "PendingWindowInDays", 30, 7, 30)
    return {"kms:ScheduleKeyDeletionPendingWindowInDays": days}


def schedule_deletion(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    days = _int_between(call, "PendingWindowInDays", 30, 7, 30)
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


def cancel_deletion(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    with svc.store.lock:
        key.state = "Disabled"
        key.deletion_date = None
        key.pending_window = None
    return {"KeyId": key.arn}


def update_description(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    with svc.store.lock:
        key.description = str(call.params.get("Description") or "")
    return {}


# key policies ---------------------------------------------------------------------------------------
def get_key_policy(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    if (call.params.get("PolicyName") or "default") != "default":
        raise not_found("No such policy exists")
    return {"Policy": key.policy, "PolicyName": "default"}


def list_key_policies(svc: KmsService, call: KmsCall, _: Key | None) -> dict[str, Any]:
    return {"PolicyNames": ["default"], "Truncated": False}


def prepare_put_key_policy(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    return {
        "kms:BypassPolicyLockoutSafetyCheck": bool(
            call.params.get("BypassPolicyLockoutSafetyCheck")
        )
    }


def put_key_policy(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    if (call.params.get("PolicyName") or "default") != "default":
        raise not_found("No such policy exists")
    policy = call.params.get("Policy")
    bypass = bool(call.params.get("BypassPolicyLockoutSafetyCheck"))
    svc.check_policy(call, policy, bypass, key.arn)
    with svc.store.lock:
        key.policy = str(policy)
    return {}


# rotation ---------------------------------------------------------------------------------------------
def _rotatable(key: Key) -> None:
    if key.spec != "SYMMETRIC_DEFAULT" or key.origin != "AWS_KMS" or key.manager == "AWS":
        raise AwsError(
            "UnsupportedOperationException",
            f"{key.arn} origin is {key.origin} which is not valid for this operation.",
        )


def prepare_rotation(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    return {"kms:RotationPeriodInDays": _int_between(call, "RotationPeriodInDays", 365, 90, 2560)}


def enable_rotation(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    _rotatable(key)
    with svc.store.lock:
        key.rotation_enabled = True
        key.rotation_period = _int_between(call, "RotationPeriodInDays", 365, 90, 2560)
    return {}


def disable_rotation(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    _rotatable(key)
    with svc.store.lock:
        key.rotation_enabled = False
    return {}


def rotation_status(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    out: dict[str, Any] = {"KeyRotationEnabled": key.rotation_enabled, "KeyId": key.arn}
    if key.rotation_enabled:
        out["RotationPeriodInDays"] = key.rotation_period
        out["NextRotationDate"] = ts(key.created + dt.timedelta(days=key.rotation_period))
    return out


def rotate_on_demand(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    _rotatable(key)
    fresh = Material.generate("SYMMETRIC_DEFAULT")
    with svc.store.lock:
        assert key.material is not None
        key.material.versions.append(fresh.versions[0])
        key.rotations.append(now())
    return {"KeyId": key.arn}


def list_rotations(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    rotations = [
        {"KeyId": key.arn, "RotationDate": ts(d), "RotationType": "ON_DEMAND"}
        for d in key.rotations
    ]
    return page(rotations, call.params, "Rotations")


# multi-Region keys ------------------------------------------------------------------------------------
def prepare_replicate(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    region = call.params.get("ReplicaRegion") or ""
    return {"kms:ReplicaRegion": region, **tag_context(tags_of(call))}


def replicate_key(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    region = call.params.get("ReplicaRegion") or ""
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
    policy = _policy_or_default(svc, call, key.account, key_arn(region, key.account, key.key_id))
    tags = tags_of(call)
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


def prepare_primary(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    return {"kms:PrimaryRegion": call.params.get("PrimaryRegion") or ""}


def update_primary_region(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    region = call.params.get("PrimaryRegion") or ""
    mr = key.multi_region
    if mr is None or mr.primary_region != key.region:
        raise AwsError(
            "UnsupportedOperationException", f"{key.arn} is not a multi-region primary key."
        )
    if region not in mr.regions:
        raise NotFound(arn=key.arn.replace(key.region, region, 1))
    with svc.store.lock:
        mr.primary_region = region
    return {}
