"""Cross-account: the caller's own IAM policies do not allow the external key (catalog #11)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import (
    cli_put_identity_policy,
    identity_policy,
    needed_actions,
    tf_identity_policy,
)
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._iam import resource_mismatches
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
    if f.identity_collected and not f.identity_unreadable:
        for name, _doc, call in f.identity_policy_sources:
            evidence.append(Evidence(call, f"policy {name} does not allow {f.action} on {ctx.key}"))
        if not f.identity_policy_sources:
            evidence.append(
                Evidence(
                    "iam:ListRolePolicies",
                    f"{f.principal.name or 'the caller'} has no identity policies",
                )
            )
    evidence += ctx.layer_message_evidence("identity")
    if len(evidence) < 2:
        return None
    doc = identity_policy(f, needed_actions(f))
    name = f"kms-use-{f.key_account}-{f.key_id[:8] or 'key'}"
    return ctx.finding(
        META,
        f"{ctx.who} has no IAM policy in account {f.principal_account} allowing {ctx.action} on the external key "
        f"{ctx.key}; cross-account use needs both the key policy and the caller's IAM policy.",
        evidence,
        Fix(
            summary=f"In account {f.principal_account}, allow {', '.join(needed_actions(f))} on {ctx.key} in an IAM policy of {f.principal.name or 'the caller'}.",
            cli=cli_put_identity_policy(f, doc, name),
            terraform=tf_identity_policy(f, doc, name),
        ),
        implies="ImplicitDeny",
    )
