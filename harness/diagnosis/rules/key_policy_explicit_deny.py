"""A Deny statement in the key policy matches the request (catalog #4)."""

from __future__ import annotations

import copy

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import (
    cli_edit_key_policy,
    exempt_principal,
    key_policy_fix,
    policy_principal,
    statement_by_sid,
    tf_name,
)
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
    meaning="a Deny statement in the key policy matches",
    phase="explicit-deny",
    after=("VPC_ENDPOINT_POLICY_BLOCKS",),
    node="key-trust",
    fixes=("aws kms get-key-policy", "aws kms put-key-policy"),
)


def _fix(ctx: Context, sid: str, who: str, summary: str, terraform: str) -> Fix:
    policy = copy.deepcopy(ctx.facts.key_policy)
    targets = statement_by_sid(policy, sid) if policy else []
    if policy is None or not targets:
        return Fix(
            summary=summary,
            cli=cli_edit_key_policy(
                ctx.facts,
                f'in Deny statement {sid} add "Condition": {{"ArnNotLike": {{"aws:PrincipalArn": "{who}"}}}}',
            ),
            terraform=terraform,
        )
    for st in targets:
        exempt_principal(st, who)
    return key_policy_fix(ctx.facts, summary, policy, change=f"exempts {who} from {sid}")


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
        _fix(
            ctx,
            sid,
            who,
            f"Narrow Deny statement {sid} (exclude {who} with an ArnNotLike aws:PrincipalArn condition), or make the request meet the condition it enforces.",
            (
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
