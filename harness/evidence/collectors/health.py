"""Playbook step 1: AWS Health events for KMS in the region."""

from __future__ import annotations

from harness.evidence.investigation import Investigation
from harness.evidence.registry import collector


@collector("service_health", step="1", permissions=("health:DescribeEvents",))
def service_health(inv: Investigation) -> None:
    """Open AWS Health events for KMS in the call's region (and the key's, when different)."""
    regions = sorted({inv.region, inv.key_region})
    inv.call(
        inv.investigator,
        "health",
        "DescribeEvents",
        # Served from us-east-1 whatever region it reports on
        # (https://docs.aws.amazon.com/health/latest/APIReference/Welcome.html).
        inv.global_region,
        {"filter": {"services": ["KMS"], "regions": regions, "eventStatusCodes": ["open"]}},
        paginate=True,
        max_items=100,
    )
