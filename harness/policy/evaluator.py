"""The KMS authorization decision (contract section 2).

How the layers combine (sources cited per rule):
- An explicit Deny in any layer wins (IAM reference_policies_evaluation-logic.html, "Deny
  evaluation"; KMS policy-evaluation.html).
- The key policy is the primary control: IAM identity policies count only when the key policy allows
  the caller's account (the "Enable IAM policies" root statement); a statement naming the principal
  allows without IAM (kms key-policy-default.html#key-policy-default-allow-root-enable-iam).
- Within one account the principal the key policy names decides which implicit denies still apply
  (IAM evaluation logic, "Resource-based policies and implicit denies in other policy types"):
  role ARN - limited by a permissions boundary and a session policy; role-session ARN and
  federated-user ARN - by neither, nor by identity policies; IAM user ARN - not by identity policies
  or a boundary.
- Cross-account, both the key policy and the caller's identity policies must allow, and the
  caller's boundary and session policy apply (reference_policies_evaluation-logic-cross-account.html,
  kms key-policy-modifying-external-accounts.html).
- Grants allow like a key-policy statement naming the grantee (grants.html).
- SCPs (every level from the root to the account must allow; not for service principals), RCPs
  (Deny only, RCPFullAWSAccess being always attached; not for AWS managed keys, not for
  kms:RetireGrant: kms resource-control-policies.html)
  and the VPC endpoint policy (kms-vpc-endpoint.html) only restrict.

Over 400 lines because: it is one decision, the order of the layers above, read top to
bottom; the trace it writes follows that order, and splitting the layers apart hides it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.aws.operations import CROSS_ACCOUNT_ACTIONS
from harness.policy import principals as P
from harness.policy.errors import PolicyError
from harness.policy.grants import (
    PolicyGrant,
    compile_grants,
    constraint_ok,
    create_grant_ok,
    for_key,
    grantee_kind,
)
from harness.policy.language import RANK, Policy, Request, compile_policy
from harness.policy.layers import LAYERS
from harness.policy.messages import UNCONFIRMED, access_denied, first_layer
from harness.policy.request import Parsed

# Allow kinds that need nothing more within the account (beyond SCP/RCP/VPCE). A wildcard
# principal matches the principal that makes the request, i.e. the session itself ("When you assume
# a role and make a request, the principal making the request is the IAM role session ARN").
_DIRECT = frozenset({P.SESSION, P.FEDERATED_USER, P.ROOT, P.SERVICE, P.USER, P.WILDCARD})
# Allow kinds limited by an implicit deny in a boundary or a session policy.
_ROLE_LIKE = frozenset({P.ROLE})


@dataclass(slots=True)
class Inputs:
    key_policy: Policy | None
    identity: list[tuple[str, Policy]]
    boundary: Policy | None
    session: Policy | None
    scps: list[list[tuple[str, Policy]]]
    rcps: list[list[tuple[str, Policy]]]
    vpce: Policy | None
    grants: list[PolicyGrant]


def _opt_policy(doc: dict[str, Any], field: str, resource: bool) -> Policy | None:
    value = doc.get(field)
    if value is None:
        return None
    return compile_policy(value, policy=field, resource_policy=resource)


def _levels(doc: dict[str, Any], field: str, resource: bool) -> list[list[tuple[str, Policy]]]:
    raw = doc.get(field)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise PolicyError(
            f"{field} must be a list of levels (root to account), each a list of policies",
            policy=field,
        )
    out = []
    for i, level in enumerate(raw):
        items = level if isinstance(level, list) else [level]
        out.append(
            [
                (n, compile_policy(p, policy=n, resource_policy=resource))
                for j, p in enumerate(items)
                for n in (f"{field}[{i}][{j}]",)
            ]
        )
    return out


_INPUTS: dict[tuple[Any, ...], Inputs] = {}


def _text_key(doc: dict[str, Any]) -> tuple[Any, ...] | None:
    """A cache key for inputs whose policies are all JSON text (the usual form from AWS APIs)."""
    parts: list[Any] = []
    for field in ("key_policy", "permissions_boundary", "session_policy", "vpc_endpoint_policy"):
        v = doc.get(field)
        if v is not None and type(v) is not str:
            return None
        parts.append(v)
    ids = doc.get("identity_policies")
    if ids is not None:
        if type(ids) is not list or not all(type(p) is str for p in ids):
            return None
        parts.append(tuple(ids))
    else:
        parts.append(None)
    for field in ("scps", "rcps"):
        levels = doc.get(field)
        if levels is None:
            parts.append(None)
            continue
        if type(levels) is not list or not all(
            type(lv) is list and all(type(p) is str for p in lv) for lv in levels
        ):
            return None
        parts.append(tuple(tuple(lv) for lv in levels))
    return tuple(parts)


def compile_inputs(doc: dict[str, Any]) -> Inputs:
    """Compile every policy of the input; inputs made only of policy texts are cached whole."""
    grants = doc.get("grants")
    key = _text_key(doc)
    if key is not None:
        hit = _INPUTS.get(key)
        if hit is None:
            hit = _compile_inputs(doc, with_grants=False)
            if len(_INPUTS) >= 1024:
                _INPUTS.clear()
            _INPUTS[key] = hit
        if grants is None:
            return hit
        return Inputs(
            key_policy=hit.key_policy,
            identity=hit.identity,
            boundary=hit.boundary,
            session=hit.session,
            scps=hit.scps,
            rcps=hit.rcps,
            vpce=hit.vpce,
            grants=compile_grants(grants),
        )
    return _compile_inputs(doc, with_grants=True)


def _compile_inputs(doc: dict[str, Any], with_grants: bool) -> Inputs:
    ids = doc.get("identity_policies")
    if ids is None:
        ids = []
    if not isinstance(ids, list):
        raise PolicyError(
            "identity_policies must be a list of policies", policy="identity_policies"
        )
    return Inputs(
        key_policy=_opt_policy(doc, "key_policy", True),
        identity=[
            (
                f"identity_policies[{i}]",
                compile_policy(p, policy=f"identity_policies[{i}]", resource_policy=False),
            )
            for i, p in enumerate(ids)
        ],
        boundary=_opt_policy(doc, "permissions_boundary", False),
        session=_opt_policy(doc, "session_policy", False),
        scps=_levels(doc, "scps", False),
        rcps=_levels(doc, "rcps", True),
        vpce=_opt_policy(doc, "vpc_endpoint_policy", True),
        grants=compile_grants(doc.get("grants")) if with_grants else [],
    )


def scan(policy: Policy, req: Request) -> tuple[bool, str]:
    """(explicit deny, strongest allow kind) of one policy; identity policies allow as "identity"."""
    deny = False
    best = P.NONE
    for st in policy.statements:
        kind = st.applies(req)
        if not kind:
            continue
        if st.effect == "Deny":
            deny = True
        elif kind == "identity" or RANK[kind] > RANK.get(best, 0):
            best = kind
    return deny, best


def _scan_many(policies: list[tuple[str, Policy]], req: Request) -> tuple[bool, bool]:
    deny = allow = False
    for _, pol in policies:
        d, a = scan(pol, req)
        deny = deny or d
        allow = allow or bool(a)
    return deny, allow


def grant_kind(parsed: Parsed, grants: list[PolicyGrant]) -> str:
    req = parsed.req
    op = req.action_lower.removeprefix("kms:")
    best = P.NONE
    for g in grants:
        if op not in g.operations:
            continue
        if not for_key(g, req.resource):
            continue
        kind, _ = grantee_kind(g, req.caller)
        if kind == P.NONE or kind == P.WILDCARD:
            continue
        ok, _ = constraint_ok(g, op, parsed.encryption_context, parsed.symmetric)
        if ok:
            ok, _ = create_grant_ok(g, op, req.ctx)
        if ok and RANK[kind] > RANK[best]:
            best = kind
    return best


@dataclass(slots=True)
class Decision:
    decision: str
    blocked_by: list[str]
    allowed_by: list[str]
    message: str
    notes: dict[str, str]


def rcp_applies(parsed: Parsed) -> tuple[bool, str]:
    if parsed.aws_managed:
        return False, "RCPs do not apply to AWS managed keys"
    if parsed.req.action_lower == "kms:retiregrant":
        return False, "kms:RetireGrant cannot be controlled by an RCP"
    return True, ""


def session_applies(inputs: Inputs, parsed: Parsed) -> tuple[bool, str]:
    if inputs.session is None:
        return False, "no session policy given"
    if not parsed.req.caller.is_session:
        return False, "the caller is not a session, so no session policy applies"
    return True, ""


def decide(inputs: Inputs, parsed: Parsed) -> Decision:
    req = parsed.req
    caller = req.caller
    is_service = caller.kind == "service"
    denied: list[str] = []
    blocked: list[str] = []
    allowed_by: list[str] = []

    kp_deny, kp_kind = scan(inputs.key_policy, req) if inputs.key_policy else (False, P.NONE)
    if kp_deny:
        denied.append("key-policy")
    id_deny, id_allow = (False, False) if is_service else _scan_many(inputs.identity, req)
    if id_deny:
        denied.append("identity")
    b_deny = b_allow = False
    if inputs.boundary is not None and not is_service:
        b_deny, b_kind = scan(inputs.boundary, req)
        b_allow = bool(b_kind)
        if b_deny:
            denied.append("permissions-boundary")
    s_on, _ = session_applies(inputs, parsed)
    s_deny = s_allow = False
    if s_on:
        assert inputs.session is not None
        s_deny, s_kind = scan(inputs.session, req)
        s_allow = bool(s_kind)
        if s_deny:
            denied.append("session")
    scp_block = False
    if inputs.scps and not is_service:
        scp_deny = False
        for level in inputs.scps:
            d, a = _scan_many(level, req)
            scp_deny = scp_deny or d
            scp_block = scp_block or not a
        if scp_deny:
            denied.append("scp")
    # RCPFullAWSAccess is attached to every root, OU and account and cannot be detached
    # (organizations orgs_manage_policies_rcps.html), so no RCP level ever lacks an Allow: only
    # Deny statements in RCPs restrict.
    r_on, _ = rcp_applies(parsed)
    if inputs.rcps and r_on:
        for level in inputs.rcps:
            if _scan_many(level, req)[0]:
                denied.append("rcp")
                break
    v_block = False
    if inputs.vpce is not None:
        v_deny, v_kind = scan(inputs.vpce, req)
        v_block = not v_kind
        if v_deny:
            denied.append("vpc-endpoint")

    if denied:
        layer = first_layer(denied)
        return Decision(
            "ExplicitDeny",
            _ordered(denied),
            [],
            access_denied(caller.arn, req.action, req.resource, layer, True),
            {
                "message_layer": layer,
                **({"unconfirmed": "message"} if layer in UNCONFIRMED else {}),
            },
        )

    g_kind = grant_kind(parsed, inputs.grants) if inputs.grants else P.NONE
    kind = kp_kind if RANK[kp_kind] >= RANK[g_kind] else g_kind
    granted_by = [
        layer
        for layer, k in (("key-policy", kp_kind), ("grant", g_kind))
        if k and RANK[k] == RANK[kind]
    ]

    need_identity = need_boundary = need_session = False
    cross_unsupported = False
    if kind == P.NONE:
        blocked.append("key-policy")
    elif is_service:
        if kind not in (P.SERVICE, P.WILDCARD):
            blocked.append("key-policy")
    elif caller.account != parsed.key_account:
        need_identity = need_boundary = need_session = True
        # AWS's exact error for the other operations is unconfirmed (catalog A13).
        if req.action_lower not in CROSS_ACCOUNT_ACTIONS:
            blocked.append("key-policy")
            cross_unsupported = True
    elif kind in _DIRECT:
        pass
    elif kind in _ROLE_LIKE:
        need_boundary = need_session = True
    else:  # ACCOUNT: the key policy delegates to IAM
        need_identity = need_boundary = need_session = True

    if need_identity:
        if id_allow:
            allowed_by.append("identity")
        else:
            blocked.append("identity")
    if need_boundary and inputs.boundary is not None:
        if b_allow:
            allowed_by.append("permissions-boundary")
        else:
            blocked.append("permissions-boundary")
    if need_session and s_on:
        if s_allow:
            allowed_by.append("session")
        else:
            blocked.append("session")
    if inputs.scps and not is_service:
        (blocked if scp_block else allowed_by).append("scp")
    if inputs.rcps and r_on:
        allowed_by.append("rcp")
    if inputs.vpce is not None:
        (blocked if v_block else allowed_by).append("vpc-endpoint")

    if blocked:
        layer = first_layer(blocked)
        # A grant for the caller that failed on its operation or constraint: AWS's text for this
        # case is unconfirmed (catalog section 8, item 2); we assume the resource-based phrase.
        unconfirmed = (
            layer in UNCONFIRMED
            or cross_unsupported
            or (
                layer == "key-policy"
                and any(
                    for_key(g, req.resource)
                    and grantee_kind(g, caller)[0] not in (P.NONE, P.WILDCARD)
                    for g in inputs.grants
                )
            )
        )
        return Decision(
            "ImplicitDeny",
            _ordered(blocked),
            [],
            access_denied(caller.arn, req.action, req.resource, layer, False),
            {"message_layer": layer, **({"unconfirmed": "message"} if unconfirmed else {})},
        )
    return Decision("Allowed", [], _ordered(granted_by + allowed_by), "", {"principal_kind": kind})


def _ordered(layers: list[str]) -> list[str]:
    return [layer for layer in LAYERS if layer in layers]
