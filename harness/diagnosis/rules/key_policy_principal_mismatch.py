"""A key policy principal meant for the caller does not match it (catalog #15, #16, #17)."""

from __future__ import annotations

import copy
from typing import Any

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import (
    add_statement_fix,
    key_policy_fix,
    needed_actions,
    policy_principal,
    replace_principal,
    statement,
    statement_by_sid,
)
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._policy import Mismatch, key_policy_implicit, principal_mismatches

META = RuleMeta(
    code="KEY_POLICY_PRINCIPAL_MISMATCH",
    runbook_step=3,
    severity="error",
    title="Key policy principal does not match the caller",
    reads=("kms:GetKeyPolicy", "iam:GetRole", "iam:GetUser"),
    catalog=("A15", "A16", "A17"),
    layer="key-policy",
    meaning="a principal in the key policy was meant for the caller but does not match it (session ARN, wrong account, orphaned unique id, wrong type or path)",
    phase="key-trust",
    # The grants' causes first; then a principal meant for the caller, before conditions.
    after=("GRANT_OPERATION_MISSING",),
    node="key-trust",
    fixes=("aws kms get-key-policy", "aws kms put-key-policy"),
    explains=Explains(ambiguous=True),
)


def _fix(ctx: Context, misses: list[Mismatch], right: str, st: dict[str, Any]) -> Fix:
    """Every mismatched value replaced by the caller's ARN, in the whole policy (a principal ARN
    re-binds to the current unique id when the policy is saved: an orphaned id cannot be kept)."""
    first = misses[0]
    summary = f"In statement {first.sid}, replace principal {first.value} with {right}."
    policy = copy.deepcopy(ctx.facts.key_policy)
    if policy is None:
        return add_statement_fix(ctx.facts, summary, st)
    for m in misses:
        for target in statement_by_sid(policy, m.sid):
            replace_principal(target, m.value, right)
    return key_policy_fix(ctx.facts, summary, policy, change=f"{first.value} -> {right}")


def check(ctx: Context) -> Finding | None:
    if ctx.facts.key_policy is None or not key_policy_implicit(ctx):
        return None
    misses = principal_mismatches(ctx)
    if not misses:
        return None
    right = policy_principal(ctx.facts)
    evidence = [Evidence("kms:GetKeyPolicy", f"statement {m.sid}: {m.reason}") for m in misses]
    if ctx.facts.identity_entity:
        ent = ctx.facts.identity_entity
        evidence.append(
            Evidence(
                "iam:GetRole" if "RoleId" in ent else "iam:GetUser",
                f"the caller's identity is {ent.get('Arn')} (id {ent.get('RoleId') or ent.get('UserId')})",
            )
        )
    evidence += ctx.layer_message_evidence("key-policy")
    first = misses[0]
    st = statement(
        first.sid if not first.sid.startswith("statement ") else "AllowKeyUse",
        right,
        needed_actions(ctx.facts),
    )
    return ctx.finding(
        META,
        f"The key policy of {ctx.key} names {first.value} in statement {first.sid}, which does not match "
        f"{ctx.who}; replace it with {right}.",
        evidence,
        _fix(ctx, misses, right, st),
        implies="ImplicitDeny",
    )
