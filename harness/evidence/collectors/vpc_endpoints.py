"""Beyond the Playbook steps (the runbook's "if no correlation" list): KMS VPC endpoints."""

from __future__ import annotations

from harness.evidence.investigation import Investigation
from harness.evidence.registry import collector


@collector("vpc_endpoints", step="+", permissions=("ec2:DescribeVpcEndpoints",))
def vpc_endpoints(inv: Investigation) -> None:
    """DescribeVpcEndpoints for the region's KMS service, with their policy documents."""
    creds = inv.creds_for(inv.principal.account) or inv.investigator
    inv.call(
        creds,
        "ec2",
        "DescribeVpcEndpoints",
        inv.region,
        {"Filters": [{"Name": "service-name", "Values": [f"com.amazonaws.{inv.region}.kms"]}]},
        paginate=True,
        max_items=200,
    )
