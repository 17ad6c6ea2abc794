"""A resource control policy of the key owner's organization does not allow or denies (#7)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import policy_principal
from harness.diagnosis.model import Finding, Fix
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._guard import guard_finding
from harness.diagnosis.rules._policy import matched_denies

META = RuleMeta(
    code="RCP_BLOCKS",
    runbook_step=5,
    severity="error",
    title="Resource control policy blocks",
    reads=(
        "organizations:ListParents",
        "organizations:ListPoliciesForTarget",
        "organizations:DescribePolicy",
    ),
    catalog=("A7",),
    layer="rcp",
)


def check(ctx: Context) -> Finding | None:
    denies = matched_denies(ctx, "rcp")
    pol = denies[0][0] if denies else "<rcp-id>"
    pid = pol.split(" ", 1)[0]
    who = policy_principal(ctx.facts)
    fix = Fix(
        summary=f"From the key owner's management account, exempt {who} (or its organization) from RCP {pid} for {ctx.key}.",
        cli=(
            f"aws organizations describe-policy --policy-id {pid} --query Policy.Content --output text > rcp.json\n"
            f'# in the matching Deny add "Condition": {{"ArnNotLike": {{"aws:PrincipalArn": "{who}"}}}}\n'
            f"aws organizations update-policy --policy-id {pid} --content file://rcp.json"
        ),
        terraform=(
            'resource "aws_organizations_policy" "rcp" {\n'
            '  type    = "RESOURCE_CONTROL_POLICY"\n'
            "  # exempt the caller in the matching Deny:\n"
            '  #   Condition = { ArnNotLike = { "aws:PrincipalArn" = "' + who + '" } }\n'
            '  content = file("rcp.json")\n'
            "}"
        ),
    )
    return guard_finding(ctx, META, "organizations:DescribePolicy", fix)
