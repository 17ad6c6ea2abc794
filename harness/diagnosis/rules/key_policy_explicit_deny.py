"""A Deny statement in the key policy matches the request (catalog #4)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import cli_edit_key_policy, policy_principal, tf_name
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._policy import matched_denies

META = RuleMeta(
    code="KEY_POLICY_EXPLICIT_DENY",
    runbook_step=4,
    severity="error",
    title="Key policy explicit deny",
    reads=("kms:GetKeyPolicy",),
    catalog=("A4",),
    layer="key-policy",
)


def check(ctx: Context) -> Finding | None:
    if ctx.layer_block("key-policy") != "explicit":
        return None
    denies = matched_denies(ctx, "key-policy")
    evidence = [
        Evidence("kms:GetKeyPolicy", f"Deny statement {sid} matches {ctx.action} by {ctx.who}")
        for _, sid in denies
    ]
    evidence += ctx.layer_message_evidence("key-policy")
    if not evidence:
        return None
    sid = denies[0][1] if denies else "<deny-sid>"
    who = policy_principal(ctx.facts)
    return ctx.finding(
        META,
        f"Deny statement {sid} in the key policy of {ctx.key} blocks {ctx.action} by {ctx.who}; narrow it if "
        "this caller is meant to use the key.",
        evidence,
        Fix(
            summary=f"Narrow Deny statement {sid} (for example exclude {who} with an ArnNotEquals aws:PrincipalArn condition), or make the request meet the condition it enforces.",
            cli=cli_edit_key_policy(
                ctx.facts,
                f'in Deny statement {sid} add "Condition": {{"ArnNotEquals": {{"aws:PrincipalArn": "{who}"}}}}',
            ),
            terraform=(
                f'data "aws_iam_policy_document" "{tf_name(ctx.facts.key_id or "key")}_policy" {{\n'
                "  statement {\n"
                f'    sid     = "{sid}"\n'
                '    effect  = "Deny"\n'
                "    # ...existing principals, actions and resources...\n"
                "    condition {\n"
                '      test     = "ArnNotEquals"\n'
                '      variable = "aws:PrincipalArn"\n'
                f'      values   = ["{who}"]\n'
                "    }\n"
                "  }\n"
                "}"
            ),
        ),
        implies="ExplicitDeny",
    )
