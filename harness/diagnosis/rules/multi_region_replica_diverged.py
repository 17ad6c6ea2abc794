"""A multi-Region replica's policy, grants or state differ from its related keys (#52).

Key policies, grants, aliases and enabled state of related multi-Region keys are independent and
never synchronized (multi-region-keys-auth.html).
"""

from __future__ import annotations

import json
from typing import Any

from harness.diagnosis.context import Context
from harness.diagnosis.facts import parse_policy
from harness.diagnosis.fixes import key_call_fix, key_policy_fix, sh
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta

META = RuleMeta(
    code="MULTI_REGION_REPLICA_DIVERGED",
    runbook_step="extra",
    severity="error",
    title="Multi-Region keys differ between Regions",
    reads=("kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListGrants"),
    catalog=("E52",),
    meaning="the replica's policy, grants or state differ from the primary's",
    phase="key-trust",
    node="key-trust",
    fixes=("aws kms enable-key", "aws kms get-key-policy", "aws kms put-key-policy"),
    explains=Explains(
        errors=frozenset({"DisabledException", "KMSInvalidStateException"}), any_state=True
    ),
    layer="key-policy",
)


def _grants(resp: dict[str, Any] | None) -> set[tuple[str, tuple[str, ...]]]:
    return {
        (str(g.get("GranteePrincipal")), tuple(sorted(g.get("Operations") or [])))
        for g in (resp or {}).get("Grants") or []
        if isinstance(g, dict)
    }


def _policy(resp: dict[str, Any] | None) -> str | None:
    doc = parse_policy((resp or {}).get("Policy"))
    return json.dumps(doc, sort_keys=True) if doc is not None else None


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    md = f.key_metadata or {}
    if not md.get("MultiRegion"):
        return None
    here_policy = _policy(f.key_policy_call.response if f.key_policy_call else None)
    here_grants = f.first("kms", "ListGrants", f.region)
    evidence = []
    source_region = ""
    for region in f.other_regions:
        other = f.replica(region)
        dk = other.get("describe")
        omd = (dk.response or {}).get("KeyMetadata") if dk and dk.ok else None
        if not omd or str(omd.get("KeyId")) != str(md.get("KeyId")):
            continue
        if omd.get("KeyState") != md.get("KeyState"):
            evidence.append(
                Evidence(
                    "kms:DescribeKey",
                    f"KeyState {md.get('KeyState')} in {f.region} but {omd.get('KeyState')} in {region}",
                )
            )
            source_region = source_region or region
        pol = other.get("policy")
        other_policy = _policy(pol.response if pol and pol.ok else None)
        if here_policy and other_policy and here_policy != other_policy:
            evidence.append(
                Evidence(
                    "kms:GetKeyPolicy",
                    f"the key policy in {f.region} differs from the one in {region}",
                )
            )
            source_region = source_region or region
        lg = other.get("grants")
        if here_grants and here_grants.ok and lg and lg.ok:
            a, b = _grants(here_grants.response), _grants(lg.response)
            if a != b:
                only = sorted(g for g, _ in b - a)
                evidence.append(
                    Evidence(
                        "kms:ListGrants",
                        f"grants differ between {f.region} and {region}"
                        + (f" (only in {region}: {', '.join(only)})" if only else ""),
                    )
                )
                source_region = source_region or region
    if not evidence:
        return None
    arn = md.get("Arn") or ctx.key
    failing_here = ctx.denied or md.get("KeyState") != "Enabled"
    source = f.replica(source_region).get("policy")
    source_doc = parse_policy(source.response.get("Policy")) if source and source.response else None
    summary = f"Copy the key policy (and needed grants/state) of the {source_region} copy to the {f.region} replica; Regions are never synchronized."
    primary_arn = str(
        ((md.get("MultiRegionConfiguration") or {}).get("PrimaryKey") or {}).get("Arn") or ""
    )
    fix = None
    if source_doc is not None and f.key_policy is not None and source_doc != f.key_policy:
        fix = key_policy_fix(
            f, summary, source_doc, change=f"the policy of the {source_region} copy"
        )
    elif md.get("KeyState") == "Disabled":
        fix = key_call_fix(
            f,
            summary,
            [f"aws kms enable-key --key-id {sh(str(arn))} --region {f.region}"],
            "kms:EnableKey",
            'resource "aws_kms_replica_key" "replica" {\n'
            f"  primary_key_arn = {json.dumps(primary_arn or str(arn))}\n"
            "  enabled         = true\n"
            "}",
        )
    return ctx.finding(
        META,
        f"Multi-Region key {md.get('KeyId')} is configured differently in {f.region} than in {source_region}; "
        f"align the {f.region} copy so {ctx.who} can call {ctx.action} there.",
        evidence,
        fix
        or Fix(
            summary=summary,
            cli=(
                f"aws kms get-key-policy --key-id {md.get('KeyId')} --policy-name default --query Policy --output text --region {source_region} > key-policy.json\n"
                f"aws kms put-key-policy --key-id {arn} --policy-name default --policy file://key-policy.json --region {f.region}"
            ),
            terraform=(
                'resource "aws_kms_replica_key" "replica" {\n'
                f"  provider        = aws.{f.region.replace('-', '_')}\n"
                f"  primary_key_arn = {json.dumps(primary_arn or str(arn))}\n"
                "  policy          = data.aws_iam_policy_document.shared.json  # the same document in every Region\n"
                "}"
            ),
        ),
        severity="error" if failing_here else "warning",
    )
