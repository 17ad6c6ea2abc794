"""The VPC endpoint policy of the endpoint the call used does not allow or denies (#25)."""

from __future__ import annotations

import json

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import needed_actions, policy_principal, region_flag
from harness.diagnosis.model import Finding, Fix
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._guard import guard_finding

META = RuleMeta(
    code="VPC_ENDPOINT_POLICY_BLOCKS",
    runbook_step=8,
    severity="error",
    title="VPC endpoint policy blocks",
    reads=("ec2:DescribeVpcEndpoints",),
    catalog=("B25",),
    layer="vpc-endpoint",
)


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    vpce = f.source_vpce or "<vpce-id>"
    st = {
        "Sid": "AllowKeyUse",
        "Effect": "Allow",
        "Principal": {"AWS": policy_principal(f)},
        "Action": needed_actions(f),
        "Resource": ctx.key,
    }
    fix = Fix(
        summary=f"Add a statement to the policy of {vpce} allowing {', '.join(needed_actions(f))} on {ctx.key} for {policy_principal(f)}.",
        cli=(
            f"aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {vpce} --query 'VpcEndpoints[0].PolicyDocument' --output text{region_flag(f, f.region)} > vpce-policy.json\n"
            f"# add this statement to vpce-policy.json: {json.dumps(st)}\n"
            f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce} --policy-document file://vpce-policy.json{region_flag(f, f.region)}"
        ),
        terraform=(
            'resource "aws_vpc_endpoint_policy" "kms" {\n'
            f'  vpc_endpoint_id = "{vpce}"\n'
            "  policy = jsonencode({\n"
            '    Version   = "2012-10-17"\n'
            f"    Statement = [{json.dumps(st)}]  # plus the existing statements\n"
            "  })\n"
            "}"
        ),
    )
    return guard_finding(
        ctx, META, "ec2:DescribeVpcEndpoints", fix, where=f"of {vpce}" if f.source_vpce else ""
    )
