"""The VPC endpoint policy of the endpoint the call used does not allow or denies (#25)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.guardfix import vpce_fix
from harness.diagnosis.model import Finding
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
    meaning="the VPC endpoint policy does not allow or denies",
    phase="explicit-deny",
    after=("SCP_BLOCKS",),
    node="vpce",
    fixes=("aws ec2 describe-vpc-endpoints", "aws ec2 modify-vpc-endpoint"),
)


def check(ctx: Context) -> Finding | None:
    if ctx.layer_block("vpc-endpoint") is None:
        return None
    vpce = ctx.facts.source_vpce
    return guard_finding(
        ctx, META, "ec2:DescribeVpcEndpoints", vpce_fix(ctx), where=f"of {vpce}" if vpce else ""
    )
