"""Fixes for the layers that only cap access: permissions boundary, VPC endpoint policy, SCPs and
RCPs. The wording and the change follow the policy's shape (IAM User Guide,
reference_policies_evaluation-logic.html; orgs_manage_policies_scps_evaluation.html):

- an explicit Deny matched: exempt the caller in that statement (SCP, RCP, VPC endpoint policy)
  or take the actions out of it (the caller's own boundary);
- nothing allows (an allow-list without the action, e.g. an SCP level without FullAWSAccess):
  add an Allow for exactly the actions and the key, at the level that lacks it.

Every command carries the whole new document, built from the one the bundle read, and the ids
the bundle holds; where the document could not be read, the fix says who can read it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from harness.aws import arns
from harness.aws.organizations import POLICY_TYPE_OF_LAYER
from harness.diagnosis.appliers import Applier, iam_applier, org_applier
from harness.diagnosis.context import Context
from harness.diagnosis.facts import Facts
from harness.diagnosis.fixes import (
    compact,
    exempt_principal,
    needed_actions,
    policy_principal,
    region_flag,
    sh,
    statement_by_sid,
    tf_name,
    with_statement,
)
from harness.diagnosis.model import Fix
from harness.diagnosis.rules._policy import as_list, matched_denies

_ORG_TYPES = POLICY_TYPE_OF_LAYER


@dataclass(frozen=True)
class OrgPolicy:
    id: str
    name: str
    target: str
    level: int
    document: dict[str, Any]

    @property
    def label(self) -> str:
        """How the evaluation names it (harness.diagnosis.evaluation: "Name (target)")."""
        return f"{self.name} ({self.target})"


def org_policies(facts: Facts, account: str, layer: str) -> list[OrgPolicy]:
    """Policies of one type from the root down to ``account``, with their ids, as read."""
    from harness.diagnosis.facts import parse_policy

    chain = facts.org_chain(account)
    docs: dict[str, dict[str, Any]] = {}
    for call in facts.find("organizations", "DescribePolicy"):
        pol = (call.response or {}).get("Policy") or {}
        doc = parse_policy(pol.get("Content"))
        pid = call.params.get("PolicyId") or (pol.get("PolicySummary") or {}).get("Id")
        if doc is not None and pid:
            docs[str(pid)] = doc
    out = []
    for level, target in enumerate(reversed(chain)):
        for call in facts.find("organizations", "ListPoliciesForTarget"):
            if call.params.get("TargetId") != target or not call.ok:
                continue
            if call.params.get("Filter") != _ORG_TYPES[layer]:
                continue
            for pol in (call.response or {}).get("Policies") or []:
                pid = str(pol.get("Id") or "") if isinstance(pol, dict) else ""
                if pid in docs:
                    out.append(
                        OrgPolicy(pid, str(pol.get("Name") or pid), target, level, docs[pid])
                    )
            break
    return out


def _allow_statement(facts: Facts, layer: str) -> dict[str, Any]:
    st: dict[str, Any] = {
        "Sid": "AllowKmsKeyUse",
        "Effect": "Allow",
        "Action": needed_actions(facts),
        "Resource": facts.key_ref,
    }
    if layer == "rcp":
        # RCP statements must name Principal "*" (orgs_manage_policies_rcps_syntax.html).
        st["Principal"] = "*"
    if layer == "vpc-endpoint":
        st["Principal"] = {"AWS": policy_principal(facts)}
    return st


def _without_actions(st: dict[str, Any], actions: list[str]) -> bool:
    """Take ``actions`` out of a Deny's Action list (in place); False when nothing would remain."""
    from harness.diagnosis.rules._policy import action_matches

    keep = [
        a for a in as_list(st.get("Action")) if not any(action_matches([a], x) for x in actions)
    ]
    if not keep:
        return False
    st["Action"] = keep if len(keep) > 1 else keep[0]
    return True


def _lacking_levels(ctx: Context, layer: str) -> list[int]:
    """Levels of an SCP/RCP chain where no policy allows the request (evaluator trace)."""
    levels: dict[int, list[str]] = {}
    for entry in ctx.ev.entries(layer):
        level = entry.get("level")
        if isinstance(level, int):
            levels.setdefault(level, []).append(str(entry.get("result")))
    return sorted(lvl for lvl, results in levels.items() if "Allow" not in results)


def org_fix(ctx: Context, layer: str) -> Fix:
    f = ctx.facts
    account = f.principal_account if layer == "scp" else f.key_account
    applier = org_applier(f, "organizations:UpdatePolicy")
    who = policy_principal(f)
    name = "SCP" if layer == "scp" else "RCP"
    policies = org_policies(f, account, layer)
    denies = matched_denies(ctx, layer)
    changed: list[tuple[OrgPolicy, dict[str, Any], str]] = []
    if denies:
        for label, sid in denies:
            pol = next((p for p in policies if p.label == label), None)
            if pol is None:
                continue
            doc = next((d for p, d, _ in changed if p is pol), copy.deepcopy(pol.document))
            for st in statement_by_sid(doc, sid):
                exempt_principal(st, who)
            changed = [c for c in changed if c[0] is not pol]
            changed.append(
                (
                    pol,
                    doc,
                    f"{name} {pol.id} ({pol.name}) denies {ctx.action} in statement {sid}: exempt {who}",
                )
            )
    elif ctx.ev.blocks(layer):
        for level in _lacking_levels(ctx, layer):
            at_level = [p for p in policies if p.level == level]
            if not at_level:
                continue
            pol = at_level[0]
            doc = with_statement(pol.document, _allow_statement(f, layer))
            changed.append(
                (
                    pol,
                    doc,
                    f"{name} {pol.id} ({pol.name}) on {pol.target} is an allow-list without "
                    f"{', '.join(needed_actions(f))}: add them for {ctx.key}",
                )
            )
    if not changed:
        return _org_unread_fix(ctx, layer, applier, account, name)
    summary = "; ".join(why for _, _, why in changed) + (
        f" (from the management account {applier.arn.split(':')[4]})" if applier.arn else ""
    )
    cli = "\n".join(
        f"aws organizations update-policy --policy-id {sh(p.id)} --content {sh(compact(doc))}"
        for p, doc, _ in changed
    )
    tf = "\n\n".join(
        f"# {why}\n"
        f'resource "aws_organizations_policy" "{tf_name(p.name)}" {{\n'
        f"  name    = {_q(p.name)}\n"
        f'  type    = "{_ORG_TYPES[layer]}"\n'
        f"  content = jsonencode({_hcl(doc)})\n"
        "}"
        for p, doc, why in changed
    )
    return Fix(
        summary=summary,
        cli=cli,
        terraform=tf,
        applied_by=applier.arn,
        applied_by_reason=applier.how,
    )


def _org_unread_fix(ctx: Context, layer: str, applier: Applier, account: str, name: str) -> Fix:
    """The organization policies were not readable (a member account never can): say who can
    read them and give the commands that find the one to change."""
    mgmt = arns.account_of(applier.arn) or "the management account"
    filt = _ORG_TYPES[layer]
    who = policy_principal(ctx.facts)
    return Fix(
        summary=(
            f"From the organization's management account {mgmt}, find the {name} on account {account} "
            f"or its OUs that blocks {ctx.action} and exempt {who} (a Deny) or add the action "
            f"(an allow-list); kmslab could not read the {name}s from account "
            f"{ctx.facts.investigator_account or account}, so it cannot write the new document."
        ),
        cli=(
            f"aws organizations list-parents --child-id {sh(account)}\n"
            f"aws organizations list-policies-for-target --target-id {sh(account)} --filter {filt}\n"
            f"# then, for each policy id listed here and on each parent: "
            f"aws organizations describe-policy --policy-id ID; collect again as {mgmt} for the exact update-policy command"
        ),
        terraform=(
            f'data "aws_organizations_policies_for_target" "{layer}" {{\n'
            f'  target_id = "{account}"\n'
            f'  filter    = "{filt}"\n'
            "}"
        ),
        applied_by=applier.arn,
        applied_by_reason=applier.how,
        notes=(
            f"only the management account {mgmt} or a delegated administrator can read and change {name}s",
        ),
    )


def boundary_fix(ctx: Context) -> Fix:
    f = ctx.facts
    arn = f.boundary_arn or ""
    actions = needed_actions(f)
    applier = iam_applier(f.principal_account, "iam:CreatePolicyVersion")
    doc = copy.deepcopy(f.boundary) if isinstance(f.boundary, dict) else None
    denies = matched_denies(ctx, "permissions-boundary")
    if doc is not None and denies:
        for _label, sid in denies:
            for st in statement_by_sid(doc, sid):
                if not _without_actions(st, actions):
                    exempt_principal(st, policy_principal(f))
        why = f"boundary {arn} denies {', '.join(actions)}: take them out of its Deny"
    elif doc is not None:
        doc = with_statement(doc, _allow_statement(f, "permissions-boundary"))
        why = f"boundary {arn} allows none of {', '.join(actions)}: add them on {ctx.key}"
    if doc is None or not arn:
        return Fix(
            summary=f"Add {', '.join(actions)} on {ctx.key} to the role's permissions boundary (its document was not readable).",
            cli=f"aws iam get-role --role-name {sh(f.principal.name or '')} --query Role.PermissionsBoundary",
            terraform="# the boundary document was not readable: add the actions to the policy it names",
            applied_by=applier.arn,
            applied_by_reason=applier.how,
        )
    return Fix(
        summary=f"{why[0].upper()}{why[1:]} (a key policy naming the role does not lift the boundary).",
        cli=(
            f"aws iam create-policy-version --policy-arn {sh(arn)} "
            f"--policy-document {sh(compact(doc))} --set-as-default"
        ),
        terraform=(
            f'resource "aws_iam_policy" "{tf_name(arn.rsplit("/", 1)[-1])}" {{\n'
            f"  name   = {_q(arn.rsplit('/', 1)[-1])}\n"
            f"  policy = jsonencode({_hcl(doc)})\n"
            "}"
        ),
        applied_by=applier.arn,
        applied_by_reason=applier.how,
        notes=(
            "a managed policy keeps at most 5 versions: delete an old non-default version first "
            "(aws iam delete-policy-version) when it has 5",
        ),
    )


def vpce_fix(ctx: Context) -> Fix:
    f = ctx.facts
    ep = f.vpc_endpoint or {}
    vpce = f.source_vpce or ""
    from harness.diagnosis.facts import parse_policy

    doc = parse_policy(ep.get("PolicyDocument"))
    owner = str(ep.get("OwnerId") or f.principal_account)
    applier = Applier(
        arns.account_root(owner),
        f"an IAM administrator of account {owner}, which owns {vpce} (ec2:ModifyVpcEndpoint)",
    )
    denies = matched_denies(ctx, "vpc-endpoint")
    if doc is not None and denies:
        doc = copy.deepcopy(doc)
        for _label, sid in denies:
            for st in statement_by_sid(doc, sid):
                exempt_principal(st, policy_principal(f))
        why = f"the policy of {vpce} denies {ctx.action}: exempt {policy_principal(f)}"
    elif doc is not None:
        doc = with_statement(doc, _allow_statement(f, "vpc-endpoint"))
        why = f"the policy of {vpce} allows no {ctx.action} on {ctx.key}: add it for {policy_principal(f)}"
    else:
        return Fix(
            summary=f"Allow {', '.join(needed_actions(f))} on {ctx.key} in the policy of the VPC endpoint (not readable).",
            cli=f"aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {sh(vpce)}{region_flag(f, f.region)}",
            terraform="# the endpoint policy was not readable",
            applied_by=applier.arn,
            applied_by_reason=applier.how,
        )
    return Fix(
        summary=f"{why[0].upper()}{why[1:]}.",
        cli=(
            f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {sh(vpce)} "
            f"--policy-document {sh(compact(doc))}{region_flag(f, f.region)}"
        ),
        terraform=(
            'resource "aws_vpc_endpoint_policy" "kms" {\n'
            f"  vpc_endpoint_id = {_q(vpce)}\n"
            f"  policy          = jsonencode({_hcl(doc)})\n"
            "}"
        ),
        applied_by=applier.arn,
        applied_by_reason=applier.how,
    )


def _q(text: str) -> str:
    import json

    return json.dumps(text).replace("${", "$${")


def _hcl(doc: Any) -> str:
    from harness.diagnosis.fixes import hcl_json

    return hcl_json(doc)
