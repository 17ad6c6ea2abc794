"""Shared pieces of the identity-policy rules."""

from __future__ import annotations

from harness.aws import arns
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import identity_fix as put_identity_fix
from harness.diagnosis.fixes import identity_policy, needed_actions
from harness.diagnosis.model import Evidence, Fix
from harness.diagnosis.rules._policy import as_list, covers_action, resource_misses, statements


def why_resource_misses(key_arn: str, pattern: str) -> str:
    p = arns.parse(pattern)
    k = arns.parse(key_arn)
    if p is None or k is None:
        return f"{pattern} is not a key ARN"
    if p.resource.startswith("alias/"):
        return f"{pattern} is an alias ARN; an alias ARN in Resource never grants access to the key"
    if p.region not in ("*", k.region) and p.resource_id == k.resource_id:
        return f"{pattern} is in Region {p.region}, the key is in {k.region}"
    if p.account not in ("*", k.account):
        return f"{pattern} is in account {p.account}, the key is in {k.account}"
    return f"{pattern} names another key than {key_arn}"


def resource_mismatches(ctx: Context) -> list[tuple[str, str, str]]:
    """(policy, sid, reason) of identity Allow statements that miss only on the resource."""
    key_arn = ctx.facts.key_arn
    out = []
    traced = resource_misses(ctx, "identity")
    if traced:
        for pol, sid, patterns in traced:
            for pat in patterns:
                out.append((pol, sid, why_resource_misses(key_arn, pat)))
        return out
    if ctx.ev.ran:
        return out
    # Without the evaluator: read the documents for the documented alias-ARN trap (catalog #3).
    for name, doc in ctx.facts.identity_policies:
        for i, st in enumerate(statements(doc)):
            if st.get("Effect") != "Allow" or not covers_action(st, ctx.facts.action):
                continue
            res = [str(r) for r in as_list(st.get("Resource"))]
            if res and all(":alias/" in r for r in res):
                out.append(
                    (
                        name,
                        str(st.get("Sid") or f"statement {i}"),
                        why_resource_misses(key_arn, res[0]),
                    )
                )
    return out


def call_for(ctx: Context, name: str) -> str:
    """The IAM call that read the policy named ``name`` (inline:NAME or a policy ARN)."""
    return next(
        (c for n, _d, c in ctx.facts.identity_policy_sources if n == name), "iam:GetRolePolicy"
    )


def no_allow_evidence(ctx: Context) -> list[Evidence]:
    """Each identity policy of the caller that does not allow the action, or that it has none;
    nothing when the caller's own IAM evidence is incomplete."""
    f = ctx.facts
    if not f.identity_collected or f.identity_unreadable:
        return []
    out = [
        Evidence(call, f"policy {name} does not allow {f.action} on {ctx.key}")
        for name, _doc, call in f.identity_policy_sources
    ]
    if not out:
        listing = "iam:ListUserPolicies" if f.principal.kind == "user" else "iam:ListRolePolicies"
        out.append(
            Evidence(listing, f"{f.principal.name or 'the caller'} has no identity policies")
        )
    return out


def identity_fix(ctx: Context, summary: str, name: str) -> Fix:
    """Attach a policy named ``name`` allowing the needed actions on the key to the caller."""
    doc = identity_policy(ctx.facts, needed_actions(ctx.facts))
    return put_identity_fix(ctx.facts, summary, doc, name)
