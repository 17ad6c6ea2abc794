"""A service control policy does not allow or denies (catalog #6)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.model import Finding
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._guard import org_policy_finding

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
    meaning="a service control policy does not allow or denies",
    phase="explicit-deny",
    # Explicit denies and guards in IAM's evaluation order (reference_policies_evaluation-logic.html):
    # RCP, SCP, VPC endpoint policy, key policy, identity policies, boundary, session policy.
    after=("RCP_BLOCKS",),
    node="scp",
    fixes=(
        "aws organizations list-parents",
        "aws organizations list-policies-for-target",
        "aws organizations describe-policy",
        "aws organizations update-policy",
    ),
)


def check(ctx: Context) -> Finding | None:
    return org_policy_finding(ctx, META)
