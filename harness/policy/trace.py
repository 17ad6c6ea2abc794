"""The explanation of a decision: per layer, per policy, per statement, what matched and why.

Built only when asked for (result.trace / to_dict), by re-running the same statement matchers with
explanation on; the decision itself never depends on it.
"""

from __future__ import annotations

from typing import Any

from harness.policy import principals as P
from harness.policy.evaluator import Inputs, rcp_applies, session_applies
from harness.policy.grants import constraint_ok, create_grant_ok, for_key, grantee_kind
from harness.policy.language import Policy
from harness.policy.request import Parsed


def _policy_entry(
    layer: str, name: str, level: int | None, pol: Policy, parsed: Parsed
) -> dict[str, Any]:
    req = parsed.req
    statements = [st.explain(req) for st in pol.statements]
    deny = any(s["matched"] and s["effect"] == "Deny" for s in statements)
    allow = any(s["matched"] and s["effect"] == "Allow" for s in statements)
    return {
        "layer": layer,
        "policy": name,
        "level": level,
        "result": "Deny" if deny else "Allow" if allow else "NoMatch",
        "statements": statements,
        "warnings": list(pol.warnings),
    }


def _skipped(layer: str, name: str, level: int | None, reason: str) -> dict[str, Any]:
    return {
        "layer": layer,
        "policy": name,
        "level": level,
        "result": "Skipped",
        "reason": reason,
        "statements": [],
        "warnings": [],
    }


def build(inputs: Inputs, parsed: Parsed) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    req = parsed.req
    is_service = req.caller.kind == "service"
    if inputs.key_policy is not None:
        out.append(_policy_entry("key-policy", "key-policy", None, inputs.key_policy, parsed))
    else:
        out.append(
            _skipped("key-policy", "key-policy", None, "no key policy given: nothing allows")
        )
    for name, pol in inputs.identity:
        if is_service:
            out.append(
                _skipped("identity", name, None, "a service principal has no identity policies")
            )
        else:
            out.append(_policy_entry("identity", name, None, pol, parsed))
    if inputs.boundary is not None:
        if is_service:
            out.append(
                _skipped("permissions-boundary", "permissions_boundary", None, "service principal")
            )
        else:
            out.append(
                _policy_entry(
                    "permissions-boundary", "permissions_boundary", None, inputs.boundary, parsed
                )
            )
    if inputs.session is not None:
        on, why = session_applies(inputs, parsed)
        out.append(
            _policy_entry("session", "session_policy", None, inputs.session, parsed)
            if on
            else _skipped("session", "session_policy", None, why)
        )
    for i, level in enumerate(inputs.scps):
        for name, pol in level:
            out.append(
                _skipped("scp", name, i, "SCPs do not apply to service principals")
                if is_service
                else _policy_entry("scp", name, i, pol, parsed)
            )
    r_on, r_why = rcp_applies(parsed)
    for i, level in enumerate(inputs.rcps):
        for name, pol in level:
            out.append(
                _policy_entry("rcp", name, i, pol, parsed)
                if r_on
                else _skipped("rcp", name, i, r_why)
            )
    if inputs.vpce is not None:
        out.append(_policy_entry("vpc-endpoint", "vpc_endpoint_policy", None, inputs.vpce, parsed))
    if inputs.grants:
        op = req.action_lower.removeprefix("kms:")
        entries = []
        any_ok = False
        for g in inputs.grants:
            kind, why = grantee_kind(g, req.caller)
            if kind == P.WILDCARD:
                kind, why = P.NONE, "a grantee must be one principal"
            op_ok = op in g.operations
            c_ok, c_why = constraint_ok(g, op, parsed.encryption_context, parsed.symmetric)
            if c_ok:
                cg_ok, cg_why = create_grant_ok(g, op, req.ctx)
                if not cg_ok:
                    c_ok, c_why = False, cg_why
            key_ok = for_key(g, req.resource)
            matched = kind != P.NONE and op_ok and c_ok and key_ok
            any_ok = any_ok or matched
            entries.append(
                {
                    "index": g.index,
                    "grant": g.name,
                    "matched": matched,
                    "grantee": {
                        "matched": kind != P.NONE,
                        "value": g.grantee,
                        "kind": kind or None,
                        "reason": why,
                    },
                    "operation": {
                        "matched": op_ok,
                        "operations": list(g.operations_written),
                        "value": req.action,
                    },
                    "constraints": {"matched": c_ok, "reason": c_why},
                    **({} if key_ok else {"key": {"matched": False, "value": g.key_id}}),
                }
            )
        out.append(
            {
                "layer": "grant",
                "policy": "grants",
                "level": None,
                "result": "Allow" if any_ok else "NoMatch",
                "statements": entries,
                "warnings": [],
            }
        )
    return out
