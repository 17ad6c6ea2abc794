"""An identity-based policy of the caller denies the request (catalog #5)."""

from __future__ import annotations

import copy

from harness.diagnosis.appliers import iam_applier
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import compact, hcl_json, needed_actions, sh, statement_by_sid, tf_name
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._policy import action_matches, as_list, matched_denies

META = RuleMeta(
    code="IAM_EXPLICIT_DENY",
    runbook_step=5,
    severity="error",
    title="IAM policy explicit deny",
    reads=("iam:GetRolePolicy", "iam:GetPolicyVersion", "iam:GetUserPolicy", "iam:GetGroupPolicy"),
    catalog=("A5",),
    layer="identity",
    meaning="an identity policy denies",
    phase="explicit-deny",
    after=("KEY_POLICY_EXPLICIT_DENY",),
    node="iam",
    fixes=(
        "aws iam get-policy",
        "aws iam get-policy-version",
        "aws iam create-policy-version",
        "aws iam get-role-policy",
        "aws iam get-user-policy",
        "aws iam put-role-policy",
        "aws iam put-user-policy",
    ),
)


def narrowed_deny_fix(ctx: Context, pol: str, sid: str, summary: str) -> Fix | None:
    """The whole policy with the Deny no longer matching this key: the key joins a NotResource
    list, ``Resource: "*"`` becomes ``NotResource: [key]`` (the Deny still covers every other
    key), a listed key ARN is taken out, else the request's actions leave the Deny's Action list."""
    f = ctx.facts
    doc = next((copy.deepcopy(d) for name, d, _ in f.identity_policy_sources if name == pol), None)
    targets = statement_by_sid(doc, sid) if doc else []
    if doc is None or not targets:
        return None
    key = f.key_arn or f.key_ref
    for st in targets:
        resources = as_list(st.get("Resource"))
        if "NotResource" in st:
            # "Deny everything but these keys": add this key to the exceptions.
            st["NotResource"] = [*as_list(st["NotResource"]), key]
        elif resources == ["*"]:
            st.pop("Resource", None)
            st["NotResource"] = [key]
        elif key in resources and len(resources) > 1:
            st["Resource"] = [r for r in resources if r != key]
        else:
            keep = [
                a
                for a in as_list(st.get("Action"))
                if not any(action_matches([a], x) for x in needed_actions(f))
            ]
            if not keep:
                return None
            st["Action"] = keep
    kind = "user" if f.principal.kind == "user" else "role"
    applier = iam_applier(
        f.principal_account,
        "iam:CreatePolicyVersion" if pol.startswith("arn:") else f"iam:Put{kind.title()}Policy",
    )
    if pol.startswith("arn:"):
        cli = f"aws iam create-policy-version --policy-arn {sh(pol)} --policy-document {sh(compact(doc))} --set-as-default"
        notes: tuple[str, ...] = (
            "a managed policy keeps at most 5 versions: delete an old non-default version first when it has 5",
        )
        tf = f'resource "aws_iam_policy" "{tf_name(pol.rsplit("/", 1)[-1])}" {{\n  name   = "{pol.rsplit("/", 1)[-1]}"\n  policy = jsonencode({hcl_json(doc)})\n}}'
    else:
        name = pol.removeprefix("inline:")
        cli = f"aws iam put-{kind}-policy --{kind}-name {sh(f.principal.name or '')} --policy-name {sh(name)} --policy-document {sh(compact(doc))}"
        notes = ()
        tf = (
            f'resource "aws_iam_{kind}_policy" "{tf_name(name)}" {{\n'
            f'  name   = "{name}"\n  {kind}   = "{f.principal.name}"\n'
            f"  policy = jsonencode({hcl_json(doc)})\n}}"
        )
    return Fix(
        summary=summary,
        cli=cli,
        terraform=tf,
        applied_by=applier.arn,
        applied_by_reason=applier.how,
        notes=notes,
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
    summary = f"Narrow Deny statement {sid} of {pol} (exclude {ctx.key} with NotResource or a condition) if this use is intended."
    return ctx.finding(
        META,
        f"Deny statement {sid} in IAM policy {pol} of {ctx.who} blocks {ctx.action} on {ctx.key}; narrow the Deny.",
        evidence,
        narrowed_deny_fix(ctx, pol, sid, summary)
        or Fix(
            summary=summary,
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
