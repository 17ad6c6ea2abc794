"""Cross-account: the caller's own IAM policies do not allow the external key (catalog #11)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import needed_actions
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._iam import identity_fix, no_allow_evidence, resource_mismatches
from harness.diagnosis.rules._policy import identity_implicit

META = RuleMeta(
    code="CROSS_ACCOUNT_IAM_MISSING",
    runbook_step=7,
    severity="error",
    title="Cross-account: caller's IAM lacks the key",
    reads=(
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:GetPolicyVersion",
    ),
    catalog=("A11",),
    layer="identity",
    meaning="cross-account: the caller's own IAM policies do not allow the key",
    phase="identity",
    # An allow on the wrong resource is the more specific identity cause.
    after=("IAM_RESOURCE_MISMATCH",),
    node="iam",
    fixes=("aws iam put-role-policy", "aws iam put-user-policy"),
    explains=Explains(ambiguous=True),
)


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    if not f.cross_account or not identity_implicit(ctx) or resource_mismatches(ctx):
        return None
    evidence = [
        Evidence(
            "request",
            f"the key belongs to account {f.key_account}; the caller is in account {f.principal_account}",
        )
    ]
    evidence += no_allow_evidence(ctx)
    evidence += ctx.layer_message_evidence("identity")
    if len(evidence) < 2:
        return None
    return ctx.finding(
        META,
        f"{ctx.who} has no IAM policy in account {f.principal_account} allowing {ctx.action} on the external key "
        f"{ctx.key}; cross-account use needs both the key policy and the caller's IAM policy.",
        evidence,
        identity_fix(
            ctx,
            f"In account {f.principal_account}, allow {', '.join(needed_actions(f))} on {ctx.key} in an IAM policy of {f.principal.name or 'the caller'}.",
            f"kms-use-{f.key_account}-{f.key_id[:8] or 'key'}",
        ),
        implies="ImplicitDeny",
    )
