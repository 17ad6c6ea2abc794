"""KMS grants: a third way to allow (never to deny).

- Operations are the grant operations of grants.html#terms-grant-operations; a grant allows only
  those (no wildcards, no groups in the API).
- Constraints (API_GrantConstraints.html): EncryptionContextEquals needs the request's encryption
  context to be exactly the constraint's pairs; EncryptionContextSubset needs it to contain them.
  "In a grant constraint, the key in each key-value pair is not case sensitive, but the value is
  case sensitive." Constraints apply only to cryptographic operations that take an encryption
  context (symmetric keys); DescribeKey, RetireGrant, CreateGrant and asymmetric-key operations
  ignore them.
- The grantee is one principal; a grant to a role covers the role's sessions, as a key policy
  naming the role does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.aws.operations import ENCRYPTION_CONTEXT_GRANT_OPERATIONS, GRANT_OPERATIONS
from harness.policy import principals as P
from harness.policy.errors import PolicyError

_BY_LOWER = {op.lower(): op for op in GRANT_OPERATIONS}
CONSTRAINED_OPERATIONS = frozenset(op.lower() for op in ENCRYPTION_CONTEXT_GRANT_OPERATIONS)


@dataclass(frozen=True, slots=True)
class PolicyGrant:
    index: int
    grantee: str
    operations: frozenset[str]  # lower-case
    operations_written: tuple[str, ...]
    equals: dict[str, str] | None  # lower-case key -> value
    subset: dict[str, str] | None
    key_id: str | None
    name: str


def _ec(value: Any, name: str, field: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise PolicyError(
            "must be an object of string keys and string values", policy=name, field=field
        )
    return {k.lower(): v for k, v in value.items()}


def compile_grants(raw: Any) -> list[PolicyGrant]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise PolicyError("grants must be a list", policy="grants")
    out = []
    for i, g in enumerate(raw):
        name = f"grants[{i}]"
        if not isinstance(g, dict):
            raise PolicyError("a grant must be an object", policy=name)
        # Other ListGrants fields (and future ones) are ignored: only these decide access.
        grantee = g.get("GranteePrincipal")
        if not isinstance(grantee, str) or not grantee:
            raise PolicyError(
                "GranteePrincipal must be a principal ARN", policy=name, field="GranteePrincipal"
            )
        ops = g.get("Operations")
        if not isinstance(ops, list) or not ops or not all(isinstance(o, str) for o in ops):
            raise PolicyError(
                "Operations must be a non-empty list of operation names",
                policy=name,
                field="Operations",
            )
        lowered = set()
        for o in ops:
            if o not in GRANT_OPERATIONS:
                hint = _BY_LOWER.get(o.lower().removeprefix("kms:"))
                raise PolicyError(
                    f"{o!r} is not a grant operation"
                    + (f" (did you mean {hint!r}?)" if hint else ""),
                    policy=name,
                    field="Operations",
                )
            lowered.add(o.lower())
        cons = g.get("Constraints")
        equals = subset = None
        if cons is not None:
            if not isinstance(cons, dict):
                raise PolicyError("Constraints must be an object", policy=name, field="Constraints")
            for key in cons:
                if key not in ("EncryptionContextEquals", "EncryptionContextSubset"):
                    raise PolicyError(
                        f"unknown constraint {key!r}", policy=name, field=f"Constraints.{key}"
                    )
            if "EncryptionContextEquals" in cons:
                equals = _ec(
                    cons["EncryptionContextEquals"], name, "Constraints.EncryptionContextEquals"
                )
            if "EncryptionContextSubset" in cons:
                subset = _ec(
                    cons["EncryptionContextSubset"], name, "Constraints.EncryptionContextSubset"
                )
        key_id = g.get("KeyId")
        out.append(
            PolicyGrant(
                index=i,
                grantee=grantee,
                operations=frozenset(lowered),
                operations_written=tuple(ops),
                equals=equals,
                subset=subset,
                key_id=key_id if isinstance(key_id, str) else None,
                name=str(g.get("Name") or g.get("GrantId") or name),
            )
        )
    return out


def grantee_kind(grant: PolicyGrant, caller: P.PolicyCaller) -> tuple[str, str]:
    if "." in grant.grantee and not grant.grantee.startswith("arn:"):
        return P.match_service_value(grant.grantee, caller)
    return P.match_aws_value(grant.grantee, caller, False)


def constraint_ok(
    grant: PolicyGrant, operation: str, ec: dict[str, str] | None, symmetric: bool
) -> tuple[bool, str]:
    """Whether the grant's constraints admit the request; (ok, why)."""
    if grant.equals is None and grant.subset is None:
        return True, "no constraints"
    if operation not in CONSTRAINED_OPERATIONS or not symmetric:
        return True, "constraints do not apply to this operation"
    req = {k.lower(): v for k, v in (ec or {}).items()}
    if grant.equals is not None and req != grant.equals:
        return False, (
            f"EncryptionContextEquals {grant.equals} (keys case-insensitive, values exact) "
            f"does not equal the request's encryption context {ec or {}}"
        )
    if grant.subset is not None:
        missing = {k: v for k, v in grant.subset.items() if req.get(k) != v}
        if missing:
            return False, (
                f"EncryptionContextSubset pairs {missing} are not in the request's "
                f"encryption context {ec or {}}"
            )
    return True, "constraints met"


def for_key(grant: PolicyGrant, resource: str) -> bool:
    """A grant listed with its key ARN applies only to that key (ListGrants returns KeyId)."""
    return not (grant.key_id and grant.key_id.startswith("arn:") and grant.key_id != resource)


def create_grant_ok(
    grant: PolicyGrant, operation: str, ctx: dict[str, tuple[str, ...]]
) -> tuple[bool, str]:
    """CreateGrant through a grant may only pass on that grant's operations
    (kms grant-authorization.html: "Principals who get CreateGrant permission from a grant have
    more limited grant permissions"; grants.html, "Grant operations", CreateGrant)."""
    if operation != "creategrant":
        return True, ""
    wanted = ctx.get("kms:grantoperations")
    if not wanted:
        return True, ""
    extra = [o for o in wanted if o.lower() not in grant.operations]
    if extra:
        return False, f"the new grant's operations {extra} are not in this grant"
    return True, ""
