"""Cross-account: the owner's key policy allows neither the caller's account nor the caller."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import add_statement_fix, needed_actions, policy_principal, statement
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._policy import key_policy_lacks_caller

META = RuleMeta(
    code="CROSS_ACCOUNT_KEY_POLICY_MISSING",
    runbook_step=7,
    severity="error",
    title="Cross-account: key policy lacks the caller",
    reads=("kms:GetKeyPolicy", "kms:DescribeKey"),
    catalog=("A10", "A12"),
    layer="key-policy",
    meaning="cross-account: the key policy does not allow the caller's account or principal",
    phase="key-trust",
    # A statement for the caller that does not apply (principal, condition) explains more
    # than a missing one for the caller's account.
    after=("KEY_POLICY_CONDITION_UNMET",),
    node="key-trust",
    fixes=("aws kms get-key-policy", "aws kms put-key-policy"),
    explains=Explains(ambiguous=True),
)


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    if not f.cross_account or not key_policy_lacks_caller(ctx):
        return None
    evidence = [
        Evidence(
            "request",
            f"the key belongs to account {f.key_account}; the caller is in account {f.principal_account}",
        )
    ]
    if f.key_policy is not None:
        evidence.append(
            Evidence(
                "kms:GetKeyPolicy",
                f"no Allow statement for {f.action} names {f.principal_arn}, its role or arn:aws:iam::{f.principal_account}:root",
            )
        )
    msg = ctx.layer_message_evidence("key-policy")
    if f.key_policy is None and not msg:
        return None
    evidence += msg
    st = statement("AllowExternalUse", policy_principal(f), needed_actions(f))
    return ctx.finding(
        META,
        f"The key policy of {ctx.key} (account {f.key_account}) does not allow {ctx.action} to {ctx.who} "
        f"from account {f.principal_account}; the key owner must add it.",
        evidence,
        add_statement_fix(
            f,
            f"In account {f.key_account}, add a key policy statement for {policy_principal(f)} (the caller's IAM policy must also allow the key ARN).",
            st,
        ),
        implies="ImplicitDeny",
    )
