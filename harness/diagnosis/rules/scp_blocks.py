"""A service control policy does not allow or denies (catalog #6)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import policy_principal
from harness.diagnosis.model import Finding, Fix
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._guard import guard_finding
from harness.diagnosis.rules._policy import matched_denies

META = RuleMeta(
    code="SCP_BLOCKS",
    runbook_step=5,
    severity="error",
    title="Service control policy blocks",
    reads=(
        "organizations:ListParents",
        "organizations:ListPoliciesForTarget",
        "organizations:DescribePolicy",
    ),
    catalog=("A6",),
    layer="scp",
)


def check(ctx: Context) -> Finding | None:
    denies = matched_denies(ctx, "scp")
    pol = denies[0][0] if denies else "<scp-id>"
    pid = pol.split(" ", 1)[0]
    who = policy_principal(ctx.facts)
    fix = Fix(
        summary=f"From the management account, let {ctx.action} on {ctx.key} through SCP {pid} for account {ctx.facts.principal_account} (exempt {who} from the Deny, or allow the action at every level).",
        cli=(
            f"aws organizations describe-policy --policy-id {pid} --query Policy.Content --output text > scp.json\n"
            f'# exempt the caller: add "Condition": {{"ArnNotLike": {{"aws:PrincipalArn": "{who}"}}}} to the matching Deny\n'
            f"aws organizations update-policy --policy-id {pid} --content file://scp.json"
        ),
        terraform=(
            'resource "aws_organizations_policy" "scp" {\n'
            '  type    = "SERVICE_CONTROL_POLICY"\n'
            "  # in the Deny statement that matches, add:\n"
            '  #   Condition = { ArnNotLike = { "aws:PrincipalArn" = "' + who + '" } }\n'
            '  content = file("scp.json")\n'
            "}"
        ),
    )
    return guard_finding(ctx, META, "organizations:DescribePolicy", fix)
