"""Reading policy statements for near misses: which statement was meant for this request.

The evaluator decides; this module only explains a decision already made, by looking at the
statements that almost matched (IAM reference_policies_elements_principal.html for the ARN rules).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from harness.aws import arns
from harness.diagnosis.context import Context
from harness.diagnosis.facts import Facts


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(doc: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not doc:
        return []
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, dict)]


def action_matches(patterns: list[Any], action: str) -> bool:
    low = action.lower()
    return any(isinstance(p, str) and fnmatch.fnmatchcase(low, p.lower()) for p in patterns)


def covers_action(st: dict[str, Any], action: str) -> bool:
    if "NotAction" in st:
        return not action_matches(as_list(st["NotAction"]), action)
    return action_matches(as_list(st.get("Action")), action)


def principal_values(st: dict[str, Any]) -> list[str]:
    p = st.get("Principal")
    if p == "*":
        return ["*"]
    if isinstance(p, dict):
        return [str(v) for v in as_list(p.get("AWS"))]
    return []


def sid_of(st: dict[str, Any], index: int) -> str:
    return str(st.get("Sid") or f"statement {index}")


@dataclass(frozen=True)
class Mismatch:
    sid: str
    value: str
    reason: str
    kind: str  # session-arn | wrong-account | unique-id | wrong-type | wrong-path


def classify(facts: Facts, value: str) -> tuple[str, str] | None:
    """(kind, reason) when ``value`` looks meant for the caller but does not match it."""
    p = facts.principal
    if not p.name:
        return None
    entity = facts.identity_entity or {}
    if arns.unique_id_kind(value) in ("role", "user"):
        current = entity.get("RoleId") or entity.get("UserId")
        if current and current != value:
            return (
                "unique-id",
                f"{value} is the unique id of a deleted principal; {p.name} now has id {current} "
                "(the role or user was deleted and recreated)",
            )
        return None
    v = arns.principal(value)
    if v.arn == facts.principal_arn:
        return None
    if (
        v.kind == "assumed-role"
        and p.kind in ("assumed-role", "role")
        and v.name == p.name
        and v.account == p.account
    ):
        return (
            "session-arn",
            f"{value} is a role-session ARN: it matches only session '{v.session}', not "
            f"'{p.session or p.name}'; name the role ARN instead",
        )
    if v.kind in ("role", "user") and v.name == p.name:
        caller_kind = "role" if p.kind in ("role", "assumed-role") else p.kind
        if v.account and p.account and v.account != p.account:
            return (
                "wrong-account",
                f"{value} names account {v.account}, but the caller is in account {p.account}",
            )
        if v.kind != caller_kind:
            return (
                "wrong-type",
                f"{value} names an IAM {v.kind}, but the caller is an IAM {caller_kind}",
            )
        actual = (
            facts.role_arn if caller_kind == "role" else (entity.get("Arn") or facts.principal_arn)
        )
        if actual and actual != value:
            return ("wrong-path", f"{value} differs from the caller's ARN {actual} (path or name)")
    return None


def principal_mismatches(ctx: Context) -> list[Mismatch]:
    if "mismatches" in ctx.memo:
        out: list[Mismatch] = ctx.memo["mismatches"]
        return out
    out = []
    for i, st in enumerate(statements(ctx.facts.key_policy)):
        if st.get("Effect") != "Allow" or not covers_action(st, ctx.facts.action):
            continue
        for value in principal_values(st):
            found = classify(ctx.facts, value)
            if found:
                out.append(Mismatch(sid_of(st, i), value, found[1], found[0]))
    ctx.memo["mismatches"] = out
    return out


@dataclass(frozen=True)
class UnmetCondition:
    sid: str
    operator: str
    key: str
    expected: list[Any]
    actual: list[Any]


def unmet_conditions(ctx: Context, layer: str) -> list[UnmetCondition]:
    """Conditions of Allow statements that otherwise matched, from the evaluator's trace."""
    out = []
    for _entry, st in ctx.ev.statements(layer):
        if st.get("effect") != "Allow" or st.get("matched"):
            continue
        parts = [st.get(k) for k in ("action", "resource", "principal")]
        if any(isinstance(p, dict) and p.get("matched") is False for p in parts):
            continue
        conds = [
            c
            for c in st.get("conditions") or []
            if isinstance(c, dict) and c.get("matched") is False
        ]
        for c in conds:
            out.append(
                UnmetCondition(
                    sid=str(st.get("sid") or f"statement {st.get('index')}"),
                    operator=str(c.get("operator", "")),
                    key=str(c.get("key", "")),
                    expected=as_list(c.get("expected")),
                    actual=as_list(c.get("actual")),
                )
            )
    return out


def resource_misses(ctx: Context, layer: str) -> list[tuple[str, str, list[str]]]:
    """(policy, sid, resource patterns) of Allow statements that failed only on the resource."""
    # The policy name is as the bundle names it: inline:NAME or the managed policy ARN.
    out = []
    for entry, st in ctx.ev.statements(layer):
        if st.get("effect") != "Allow" or st.get("matched"):
            continue
        act, res = st.get("action") or {}, st.get("resource") or {}
        if act.get("matched") and res.get("matched") is False:
            out.append(
                (
                    str(entry.get("policy") or layer),
                    str(st.get("sid") or f"statement {st.get('index')}"),
                    [str(p) for p in as_list(res.get("patterns"))],
                )
            )
    return out


def matched_denies(ctx: Context, layer: str) -> list[tuple[str, str]]:
    """(policy, sid) of Deny statements of a layer that matched the request."""
    return [
        (str(e.get("policy") or layer), str(s.get("sid") or f"statement {s.get('index')}"))
        for e, s in ctx.ev.matched(layer, "Deny")
    ]


def _implicit(ctx: Context, layer: str) -> bool:
    if ctx.layer_block(layer) == "implicit":
        return True
    # Without the evaluator, AWS's own text is the only statement of the layer.
    if not ctx.ev.ran and ctx.signal and ctx.signal.denied and not ctx.signal.explicit:
        return ctx.signal.layer == layer
    return False


def key_policy_implicit(ctx: Context) -> bool:
    """The key policy neither allows the caller nor delegates to its account's IAM policies."""
    return _implicit(ctx, "key-policy")


def identity_implicit(ctx: Context) -> bool:
    """No identity policy allows the action, and none denies it."""
    return _implicit(ctx, "identity")


def key_policy_lacks_caller(ctx: Context) -> bool:
    """The key policy is the gap, with no more specific cause: not an AWS managed key (its
    policy cannot be edited), no near-miss principal and no unmet condition."""
    if (ctx.facts.key_metadata or {}).get("KeyManager") == "AWS":
        return False
    return (
        key_policy_implicit(ctx)
        and not principal_mismatches(ctx)
        and not unmet_conditions(ctx, "key-policy")
    )


def identity_key_arns(facts: Facts, action: str) -> list[tuple[str, str]]:
    """(key ARN, the call that read the policy) of every key an Allow statement of the caller's
    identity policies names by its full key ARN for ``action``: the keys the application was set
    up to use, in the order the policies list them."""
    out: list[tuple[str, str]] = []
    for _, doc, source in facts.identity_policy_sources:
        for st in statements(doc):
            if st.get("Effect") != "Allow" or not covers_action(st, action):
                continue
            for res in as_list(st.get("Resource")):
                a = arns.parse(res) if isinstance(res, str) else None
                if a is None or a.service != "kms" or not a.resource.startswith("key/"):
                    continue
                if "*" in res or "?" in res or any(res == k for k, _ in out):
                    continue
                out.append((res, source))
    return out
