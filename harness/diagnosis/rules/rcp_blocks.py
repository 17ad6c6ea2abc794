"""A resource control policy of the key owner's organization does not allow or denies (#7)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.model import Finding
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._guard import org_policy_finding

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
    meaning="a resource control policy does not allow or denies",
    phase="explicit-deny",
    node="rcp",
    fixes=(
        "aws organizations list-parents",
        "aws organizations list-policies-for-target",
        "aws organizations describe-policy",
        "aws organizations update-policy",
    ),
)


def check(ctx: Context) -> Finding | None:
    return org_policy_finding(ctx, META)
