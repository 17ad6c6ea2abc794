"""An identity policy allows the action but on the wrong resource (catalog #3)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._iam import identity_fix, resource_mismatches
from harness.diagnosis.rules._policy import identity_implicit

META = RuleMeta(
    code="IAM_RESOURCE_MISMATCH",
    runbook_step=5,
    severity="error",
    title="IAM policy names the wrong resource",
    reads=("iam:GetRolePolicy", "iam:GetPolicyVersion", "iam:ListAttachedRolePolicies"),
    catalog=("A3",),
    layer="identity",
    meaning="an identity policy allows the action but on the wrong resource (alias ARN, other key, other region)",
    phase="identity",
    node="iam",
    fixes=("aws iam put-role-policy", "aws iam put-user-policy"),
    explains=Explains(ambiguous=True),
)


def check(ctx: Context) -> Finding | None:
    if not identity_implicit(ctx):
        return None
    misses = resource_mismatches(ctx)
    if not misses:
        return None
    evidence = [
        Evidence(
            "iam:GetPolicyVersion" if p.startswith("arn:") else "iam:GetRolePolicy",
            f"policy {p}, statement {sid}: {why}",
        )
        for p, sid, why in misses
    ]
    evidence += ctx.layer_message_evidence("identity")
    pol, sid, why = misses[0]
    return ctx.finding(
        META,
        f"IAM policy {pol} of {ctx.who} allows {ctx.action} but not on key {ctx.key} ({why}); name the key ARN in Resource.",
        evidence,
        identity_fix(
            ctx,
            f"Set Resource of statement {sid} to the key ARN {ctx.key} (use kms:RequestAlias / kms:ResourceAliases conditions to scope by alias).",
            f"kms-use-{ctx.facts.key_id[:8] or 'key'}",
        ),
        implies="ImplicitDeny",
    )
