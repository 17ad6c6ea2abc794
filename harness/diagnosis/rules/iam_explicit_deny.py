"""An identity-based policy of the caller denies the request (catalog #5)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import tf_name
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._policy import matched_denies

META = RuleMeta(
    code="IAM_EXPLICIT_DENY",
    runbook_step=5,
    severity="error",
    title="IAM policy explicit deny",
    reads=("iam:GetRolePolicy", "iam:GetPolicyVersion", "iam:GetUserPolicy", "iam:GetGroupPolicy"),
    catalog=("A5",),
    layer="identity",
)


def check(ctx: Context) -> Finding | None:
    if ctx.layer_block("identity") != "explicit":
        return None
    denies = matched_denies(ctx, "identity")
    evidence = [
        Evidence(
            "iam:GetPolicyVersion" if pol.startswith("arn:") else "iam:GetRolePolicy",
            f"policy {pol}, Deny statement {sid} matches {ctx.action} on {ctx.key}",
        )
        for pol, sid in denies
    ]
    evidence += ctx.layer_message_evidence("identity")
    if not evidence:
        return None
    pol, sid = denies[0] if denies else ("<policy>", "<sid>")
    entity = ctx.facts.principal.name or "<name>"
    kind = "user" if ctx.facts.principal.kind == "user" else "role"
    if pol.startswith("arn:"):
        cli = (
            f"aws iam get-policy-version --policy-arn {pol} --version-id $(aws iam get-policy --policy-arn {pol} --query Policy.DefaultVersionId --output text) > policy.json\n"
            f"# narrow Deny statement {sid} so it no longer matches {ctx.key}, then:\n"
            f"aws iam create-policy-version --policy-arn {pol} --policy-document file://policy.json --set-as-default"
        )
    else:
        name = pol.removeprefix("inline:")
        cli = (
            f"aws iam get-{kind}-policy --{kind}-name {entity} --policy-name {name} --query PolicyDocument > policy.json\n"
            f"# narrow Deny statement {sid} so it no longer matches {ctx.key}, then:\n"
            f"aws iam put-{kind}-policy --{kind}-name {entity} --policy-name {name} --policy-document file://policy.json"
        )
    return ctx.finding(
        META,
        f"Deny statement {sid} in IAM policy {pol} of {ctx.who} blocks {ctx.action} on {ctx.key}; narrow the Deny.",
        evidence,
        Fix(
            summary=f"Narrow Deny statement {sid} of {pol} (exclude {ctx.key} with NotResource or a condition) if this use is intended.",
            cli=cli,
            terraform=(
                f'data "aws_iam_policy_document" "{tf_name(pol.rsplit("/", 1)[-1].removeprefix("inline:"))}" {{\n'
                "  statement {\n"
                f'    sid           = "{sid}"\n'
                '    effect        = "Deny"\n'
                "    # ...existing actions...\n"
                f'    not_resources = ["{ctx.key}"]\n'
                "  }\n"
                "}"
            ),
        ),
        implies="ExplicitDeny",
    )
