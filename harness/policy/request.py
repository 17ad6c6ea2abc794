"""The request under evaluation and the condition keys AWS derives for it.

Derived where AWS derives them (reference_policies_condition-keys.html, conditions-kms.html):
aws:PrincipalArn/Account/Type, aws:username (IAM users), aws:PrincipalIsAWSService,
aws:ResourceAccount, aws:RequestedRegion, aws:SecureTransport (KMS is TLS only),
aws:CurrentTime/EpochTime, kms:CallerAccount, kms:EncryptionContext:<k> and
kms:EncryptionContextKeys (from the encryption context), kms:RequestAlias (an alias in KeyId),
kms:KeySpec/KeyUsage/KeyOrigin/MultiRegion (key metadata), kms:GrantIsForAWSResource
(CreateGrant/ListGrants/RevokeGrant: true only when a service calls, i.e. kms:ViaService is set),
aws:ViaAWSService. Anything in request.context overrides what is derived.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from harness.aws import arns
from harness.policy.conditions import Context
from harness.policy.errors import PolicyError
from harness.policy.language import Request
from harness.policy.principals import PolicyCaller, parse_caller

_GRANT_CONTEXT_ACTIONS = frozenset({"kms:creategrant", "kms:listgrants", "kms:revokegrant"})


@dataclass(slots=True)
class Parsed:
    req: Request
    key_account: str
    key_region: str
    encryption_context: dict[str, str] | None
    symmetric: bool
    aws_managed: bool


def _values(value: Any, field: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    out = []
    for v in items:
        if isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, str):
            out.append(v)
        elif isinstance(v, int | float):
            out.append(str(v))
        else:
            raise PolicyError(
                f"context values must be strings, numbers, booleans or lists of them, not {type(v).__name__}",
                field=field,
            )
    return tuple(out)


def _str_field(req: dict[str, Any], name: str) -> str:
    v = req.get(name)
    if not isinstance(v, str) or not v:
        raise PolicyError(f"request.{name} must be a non-empty string", field=f"request.{name}")
    return v


@lru_cache(maxsize=4)
def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=4096)
def _derived(
    principal: str, resource: str, meta_arn: str | None, key_account_override: str | None
) -> tuple[PolicyCaller, str, str, dict[str, tuple[str, ...]]]:
    """The caller and the keys that depend only on principal and key (a parse, not a decision)."""
    caller = parse_caller(principal)
    key_account = key_region = ""
    m = arns.kms_arn(resource) or arns.kms_arn(meta_arn)
    if m:
        key_region, key_account = m.region, m.account
    if key_account_override:
        key_account = key_account_override
    if not key_account:
        key_account = caller.account
    ctx: dict[str, tuple[str, ...]] = {
        "aws:principalarn": (caller.principal_arn,),
        "aws:principaltype": (caller.principal_type,),
    }
    if caller.kind == "service":
        ctx["aws:principalisawsservice"] = ("true",)
        ctx["aws:principalservicename"] = (caller.arn,)
    else:
        ctx["aws:principalisawsservice"] = ("false",)
        ctx["aws:principalaccount"] = (caller.account,)
        ctx["kms:calleraccount"] = (caller.account,)
    if caller.kind == "user":
        ctx["aws:username"] = (caller.name,)
    if caller.kind == "federated-user":
        ctx["aws:userid"] = (f"{caller.account}:{caller.name}",)
    if key_account:
        ctx["aws:resourceaccount"] = (key_account,)
    if key_region:
        ctx["aws:requestedregion"] = (key_region,)
    ctx["aws:securetransport"] = ("true",)
    return caller, key_account, key_region, ctx


def parse_request(doc: dict[str, Any], has_boundary: bool) -> Parsed:
    raw = doc.get("request")
    if not isinstance(raw, dict):
        raise PolicyError("the input needs a request object", field="request")
    principal = _str_field(raw, "principal")
    action = _str_field(raw, "action")
    resource = _str_field(raw, "resource")
    if ":" not in action:
        raise PolicyError(
            f"request.action {action!r} must look like kms:Decrypt", field="request.action"
        )
    meta = doc.get("key_metadata") or {}
    if not isinstance(meta, dict):
        raise PolicyError("key_metadata must be an object", field="key_metadata")
    meta_arn = meta.get("Arn")
    override = raw.get("key_account")
    caller, key_account, key_region, base = _derived(
        principal,
        resource,
        meta_arn if isinstance(meta_arn, str) else None,
        override if isinstance(override, str) else None,
    )
    ctx: Context = dict(base)
    now = int(time.time())
    ctx["aws:epochtime"] = (str(now),)
    ctx["aws:currenttime"] = (_iso(now),)

    spec: Any = None
    aws_managed = False
    if meta:
        spec = meta.get("KeySpec") or meta.get("CustomerMasterKeySpec")
        if isinstance(spec, str):
            ctx["kms:keyspec"] = (spec,)
        for field, key in (
            ("KeyUsage", "kms:keyusage"),
            ("Origin", "kms:keyorigin"),
            ("KeyOrigin", "kms:keyorigin"),
            ("ExpirationModel", "kms:expirationmodel"),
        ):
            if isinstance(meta.get(field), str):
                ctx[key] = (meta[field],)
        if isinstance(meta.get("MultiRegion"), bool):
            ctx["kms:multiregion"] = ("true" if meta["MultiRegion"] else "false",)
        aws_managed = meta.get("KeyManager") == "AWS"
    symmetric = not isinstance(spec, str) or spec == "SYMMETRIC_DEFAULT"

    key_id = raw.get("key") or raw.get("key_id")
    if isinstance(key_id, str):
        if key_id.startswith("alias/"):
            ctx["kms:requestalias"] = (key_id,)
        else:
            ma = arns.kms_arn(key_id)
            if ma and ma.resource_type == "alias":
                ctx["kms:requestalias"] = ("alias/" + ma.resource_id,)

    ec_raw = raw.get("encryption_context")
    ec: dict[str, str] | None = None
    if ec_raw is not None:
        if not isinstance(ec_raw, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in ec_raw.items()
        ):
            raise PolicyError(
                "request.encryption_context must map strings to strings",
                field="request.encryption_context",
            )
        ec = dict(ec_raw)

    user_ctx = raw.get("context")
    if user_ctx is not None and not isinstance(user_ctx, dict):
        raise PolicyError("request.context must be an object", field="request.context")
    ec_from_ctx: dict[str, str] = {}
    for k, v in (user_ctx or {}).items():
        if not isinstance(k, str):
            raise PolicyError("request.context keys must be strings", field="request.context")
        vals = (v,) if type(v) is str else _values(v, f"request.context.{k}")
        if vals is None:
            continue
        low = k.lower()
        ctx[low] = vals
        if low.startswith("kms:encryptioncontext:") and len(vals) == 1:
            ec_from_ctx[k.split(":", 2)[2]] = vals[0]
    tags = raw.get("principal_tags")
    if isinstance(tags, dict):
        for k, v in tags.items():
            vals = _values(v, f"request.principal_tags.{k}")
            if vals is not None:
                ctx.setdefault(f"aws:principaltag/{k}".lower(), vals)
    if ec is None and ec_from_ctx:
        ec = ec_from_ctx
    if ec is not None:
        for k, v in ec.items():
            ctx.setdefault(f"kms:encryptioncontext:{k}".lower(), (v,))
        ctx.setdefault("kms:encryptioncontextkeys", tuple(ec))
    via = ctx.get("kms:viaservice")
    ctx.setdefault("aws:viaawsservice", ("true",) if via else ("false",))
    action_lower = action.lower()
    if action_lower in _GRANT_CONTEXT_ACTIONS:
        ctx.setdefault("kms:grantisforawsresource", ("true",) if via else ("false",))

    req = Request(
        action=action,
        action_lower=action_lower,
        resource=resource,
        caller=caller,
        ctx=ctx,
        has_boundary=has_boundary,
    )
    return Parsed(
        req=req,
        key_account=key_account,
        key_region=key_region,
        encryption_context=ec,
        symmetric=symmetric,
        aws_managed=aws_managed,
    )
