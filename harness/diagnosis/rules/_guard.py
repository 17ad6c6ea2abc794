"""Layers that only cap access (boundary, session, SCP, RCP, VPC endpoint policy): shared check."""

from __future__ import annotations

from collections.abc import Callable

from harness.aws.organizations import POLICY_TYPE_OF_LAYER
from harness.diagnosis.context import Context
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._policy import matched_denies

_NAMES = {
    "permissions-boundary": "permissions boundary",
    "session": "session policy",
    "scp": "service control policy",
    "rcp": "resource control policy",
    "vpc-endpoint": "VPC endpoint policy",
}


def guard_finding(
    ctx: Context, meta: RuleMeta, source_call: str, fix: Fix, where: str = ""
) -> Finding | None:
    layer = meta.layer or ""
    kind = ctx.layer_block(layer)
    if kind is None:
        return None
    name = _NAMES[layer]
    evidence: list[Evidence] = []
    denies = matched_denies(ctx, layer)
    for pol, sid in denies:
        evidence.append(
            Evidence(
                source_call, f"{name} {pol}: Deny statement {sid} matches {ctx.action} on {ctx.key}"
            )
        )
    if kind == "implicit" and ctx.ev.blocks(layer):
        evidence.append(
            Evidence(
                source_call,
                f"no statement of the {name}{f' {where}' if where else ''} allows {ctx.action} on {ctx.key}",
            )
        )
    evidence += ctx.layer_message_evidence(layer)
    if not evidence:
        return None
    if not ctx.evaluated_with_evidence(layer):
        evidence.append(
            Evidence(
                source_call, f"the {name} itself was not readable: this rests on AWS's message text"
            )
        )
    verb = "denies" if kind == "explicit" else "does not allow"
    return ctx.finding(
        meta,
        f"The {name}{f' {where}' if where else ''} {verb} {ctx.action} on {ctx.key} for {ctx.who}; {fix.summary[0].lower() + fix.summary[1:]}",
        evidence,
        fix,
        implies="ExplicitDeny" if kind == "explicit" else "ImplicitDeny",
    )


_ORG_TYPES = POLICY_TYPE_OF_LAYER


def org_policy_finding(
    ctx: Context, meta: RuleMeta, summary: Callable[[str, str], str] | None = None
) -> Finding | None:
    """SCP_BLOCKS and RCP_BLOCKS: the fix follows the policy's shape (harness.diagnosis.guardfix)."""
    from harness.diagnosis.guardfix import org_fix

    layer = meta.layer or ""
    if ctx.layer_block(layer) is None:
        return None
    return guard_finding(ctx, meta, "organizations:DescribePolicy", org_fix(ctx, layer))
