"""The caller's permissions boundary does not allow or denies (catalog #8)."""

from __future__ import annotations

import json

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import needed_actions, tf_name
from harness.diagnosis.model import Finding, Fix
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
)


def check(ctx: Context) -> Finding | None:
    arn = ctx.facts.boundary_arn or "<boundary-policy-arn>"
    st = {
        "Sid": "AllowKmsKeyUse",
        "Effect": "Allow",
        "Action": needed_actions(ctx.facts),
        "Resource": ctx.key,
    }
    fix = Fix(
        summary=f"Add {', '.join(needed_actions(ctx.facts))} on {ctx.key} to boundary {arn} (a key policy naming the role does not lift the boundary).",
        cli=(
            f"aws iam get-policy-version --policy-arn {arn} --version-id $(aws iam get-policy --policy-arn {arn} --query Policy.DefaultVersionId --output text) --query PolicyVersion.Document > boundary.json\n"
            f"# add this statement to boundary.json: {json.dumps(st)}\n"
            f"aws iam create-policy-version --policy-arn {arn} --policy-document file://boundary.json --set-as-default"
        ),
        terraform=(
            f'data "aws_iam_policy_document" "{tf_name(arn.rsplit("/", 1)[-1])}" {{\n'
            "  # ...existing boundary statements...\n"
            "  statement {\n"
            '    sid       = "AllowKmsKeyUse"\n'
            f"    actions   = {json.dumps(needed_actions(ctx.facts))}\n"
            f'    resources = ["{ctx.key}"]\n'
            "  }\n"
            "}"
        ),
    )
    return guard_finding(
        ctx, META, "iam:GetPolicyVersion", fix, where=arn if ctx.facts.boundary_arn else ""
    )
