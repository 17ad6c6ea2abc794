"""The caller's permissions boundary does not allow or denies (catalog #8)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.guardfix import boundary_fix
from harness.diagnosis.model import Finding
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._guard import guard_finding

META = RuleMeta(
    code="PERMISSIONS_BOUNDARY_BLOCKS",
    runbook_step=5,
    severity="error",
    title="Permissions boundary blocks",
    reads=("iam:GetRole", "iam:GetPolicy", "iam:GetPolicyVersion"),
    catalog=("A8",),
    layer="permissions-boundary",
    meaning="the principal's permissions boundary does not allow or denies",
    phase="explicit-deny",
    after=("IAM_EXPLICIT_DENY",),
    node="boundary",
    fixes=("aws iam get-role", "aws iam create-policy-version", "aws iam delete-policy-version"),
)


def check(ctx: Context) -> Finding | None:
    if ctx.layer_block("permissions-boundary") is None:
        return None
    arn = ctx.facts.boundary_arn
    fix = boundary_fix(ctx)
    return guard_finding(ctx, META, "iam:GetPolicyVersion", fix, where=arn or "")
