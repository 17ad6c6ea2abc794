"""The key policy allows neither the caller nor (through the root statement) its account."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import add_statement_fix, needed_actions, policy_principal, statement
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._policy import (
    covers_action,
    key_policy_lacks_caller,
    principal_values,
    statements,
)

META = RuleMeta(
    code="KEY_POLICY_NO_ALLOW",
    runbook_step=3,
    severity="error",
    title="Key policy does not allow the caller",
    reads=("kms:GetKeyPolicy",),
    catalog=("A1", "A22"),
    layer="key-policy",
    meaning="key policy allows neither the principal nor (via the root statement) its account",
    phase="key-trust",
    # The generic cause: every more specific key-trust cause ranks before it.
    after=("CROSS_ACCOUNT_KEY_POLICY_MISSING",),
    node="key-trust",
    fixes=("aws kms get-key-policy", "aws kms put-key-policy"),
    explains=Explains(ambiguous=True),
)


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    if f.cross_account or not key_policy_lacks_caller(ctx):
        return None
    evidence = []
    if f.key_policy is not None:
        named = sorted(
            {
                v
                for st in statements(f.key_policy)
                if st.get("Effect") == "Allow" and covers_action(st, f.action)
                for v in principal_values(st)
            }
        )
        no_resource = [
            st.get("Sid", "?")
            for st in statements(f.key_policy)
            if "Resource" not in st and "NotResource" not in st
        ]
        detail = f"no Allow statement for {f.action} names {f.principal_arn} or arn:aws:iam::{f.principal_account}:root"
        detail += (
            f"; principals allowed {f.action}: {', '.join(named)}"
            if named
            else f"; no statement allows {f.action} at all"
        )
        evidence.append(Evidence("kms:GetKeyPolicy", detail))
        if no_resource:
            evidence.append(
                Evidence(
                    "kms:GetKeyPolicy",
                    f"statements without Resource have no effect: {', '.join(map(str, no_resource))}",
                )
            )
    evidence += ctx.layer_message_evidence("key-policy")
    if not evidence:
        return None
    st = statement("AllowKeyUse", policy_principal(f), needed_actions(f))
    return ctx.finding(
        META,
        f"The key policy of {ctx.key} does not allow {ctx.action} to {ctx.who} nor delegate to account "
        f"{f.principal_account}'s IAM policies; add a statement for {policy_principal(f)}.",
        evidence,
        add_statement_fix(
            f,
            f"Add a key policy statement allowing {', '.join(needed_actions(f))} to {policy_principal(f)} (or the account root statement plus an IAM policy).",
            st,
        ),
        implies="ImplicitDeny",
    )
