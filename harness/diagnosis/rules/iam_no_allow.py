"""The key policy delegates to IAM, but no identity policy allows the action on this key (#2)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import needed_actions
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._iam import identity_fix, no_allow_evidence, resource_mismatches
from harness.diagnosis.rules._policy import identity_implicit

META = RuleMeta(
    code="IAM_NO_ALLOW",
    runbook_step=5,
    severity="error",
    title="No IAM policy allows the action",
    reads=(
        "iam:GetRole",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:GetPolicyVersion",
    ),
    catalog=("A2",),
    layer="identity",
    meaning="the key policy delegates to IAM but no identity policy allows the action on this key",
    phase="identity",
    # The generic identity cause: the more specific ones rank before it.
    after=("IAM_RESOURCE_MISMATCH", "CROSS_ACCOUNT_IAM_MISSING"),
    node="iam",
    fixes=("aws iam put-role-policy", "aws iam put-user-policy"),
    explains=Explains(ambiguous=True),
)


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    if f.cross_account or not identity_implicit(ctx) or resource_mismatches(ctx):
        return None
    evidence = no_allow_evidence(ctx)
    if f.key_policy is not None:
        evidence.append(
            Evidence(
                "kms:GetKeyPolicy",
                f"the key policy delegates to IAM (arn:aws:iam::{f.key_account}:root) without naming {f.principal_arn}",
            )
        )
    evidence += ctx.layer_message_evidence("identity")
    if not evidence:
        return None
    return ctx.finding(
        META,
        f"No IAM policy of {ctx.who} allows {ctx.action} on {ctx.key}, and the key policy relies on IAM; "
        "attach one that names the key ARN.",
        evidence,
        identity_fix(
            ctx,
            f"Attach an IAM policy allowing {', '.join(needed_actions(f))} on {ctx.key} to {f.principal.name or 'the caller'}.",
            f"kms-use-{f.key_id[:8] or 'key'}",
        ),
        implies="ImplicitDeny",
    )
