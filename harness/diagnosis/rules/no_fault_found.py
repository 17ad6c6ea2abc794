"""Nothing wrong is visible: say so, and list the runbook's "no correlation" checks."""

from __future__ import annotations

from datetime import timedelta

from harness.diagnosis.context import Context
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import RuleMeta

META = RuleMeta(
    code="NO_FAULT_FOUND",
    runbook_step=None,
    severity="info",
    title="No fault found",
    reads=("kms:GetKeyRotationStatus", "kms:ListKeyRotations"),
    catalog=("section-6",),
    final=True,
    meaning="the request should be allowed and no fault is visible; lists what to check next",
    phase="investigation",
    # "No fault found" is the last word; unreadable evidence ranks before it.
    after=("INVESTIGATOR_ACCESS_DENIED",),
    node=None,
    fixes=("aws cloudtrail lookup-events",),
)


def check(ctx: Context) -> Finding | None:
    if any(fd.severity in ("critical", "error") for fd in ctx.findings) or ctx.evidence_blocked():
        # Evidence that could not be read (refused or throttled) is no proof of "no fault".
        return None
    f = ctx.facts
    evidence = []
    if ctx.ev.ran:
        evidence.append(
            Evidence(
                "kmslab evaluate",
                f"the policies allow {f.action} (allowed by {', '.join(ctx.ev.allowed_by) or '-'})"
                if ctx.ev.decision == "Allowed"
                else f"evaluation: {ctx.ev.decision}",
            )
        )
    md = f.key_metadata
    if md:
        evidence.append(
            Evidence(
                "kms:DescribeKey",
                f"KeyState {md.get('KeyState')}, KeyUsage {md.get('KeyUsage')}, KeySpec {md.get('KeySpec')}",
            )
        )
    rot = f.first("kms", "GetKeyRotationStatus")
    if rot and rot.ok:
        evidence.append(
            Evidence(
                "kms:GetKeyRotationStatus",
                f"rotation {'enabled' if (rot.response or {}).get('KeyRotationEnabled') else 'disabled'}; rotation keeps the key ID and old material, so it does not break decryption",
            )
        )
    rotations = f.first("kms", "ListKeyRotations")
    for r in ((rotations.response or {}).get("Rotations") or [] if rotations else [])[-1:]:
        evidence.append(
            Evidence(
                "kms:ListKeyRotations",
                f"last rotation {r.get('RotationDate')} ({r.get('RotationType')})",
            )
        )
    if f.observed:
        evidence.append(
            Evidence(
                "observed error",
                f"{f.observed.code}: {f.observed.message or '(empty)'} is not explained by the collected evidence",
            )
        )
    if not evidence:
        evidence.append(Evidence("request", "no evidence shows a fault"))
    since = (
        (f.collected_at - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if f.collected_at
        else "<one-hour-ago>"
    )
    next_steps = (
        "extend the CloudTrail window to 1 hour; check VPC endpoint policies, multi-Region replica status, "
        "key policy size (32 KB), grant limits, STS session policies and unexpected key material changes"
    )
    return ctx.finding(
        META,
        f"No fault is visible for {f.action} by {ctx.who} on {ctx.key}; next, {next_steps}.",
        evidence,
        Fix(
            summary=f"Nothing to change from this evidence; next: {next_steps}.",
            cli=f"aws cloudtrail lookup-events --lookup-attributes AttributeKey=ResourceName,AttributeValue={ctx.key} --start-time {since} --region {f.region or 'us-east-1'}",
            terraform="# no change indicated by the evidence",
        ),
        implies="Allowed",
    )
