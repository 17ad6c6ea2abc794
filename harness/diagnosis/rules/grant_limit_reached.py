"""Grants per key at the quota (50,000; resource-limits.html) or CreateGrant LimitExceeded (#40)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import region_flag
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta

META = RuleMeta(
    code="GRANT_LIMIT_REACHED",
    runbook_step="extra",
    severity="error",
    title="Grant quota reached",
    reads=("kms:ListGrants", "cloudtrail:LookupEvents"),
    catalog=("C40",),
    meaning="grants per key at the quota",
    phase="quota",
    node=None,
    fixes=("aws kms list-grants", "aws kms retire-grant"),
    explains=Explains(errors=frozenset({"LimitExceededException"})),
)

GRANTS_PER_KEY = 50_000


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    evidence = []
    observed = bool(
        ctx.signal_code("LimitExceededException") and f.action.lower() == "kms:creategrant"
    )
    if observed:
        evidence.append(ctx.signal_evidence())
    creates = f.kms_events(("CreateGrant",))
    if creates and creates[-1].get("errorCode") == "LimitExceededException":
        # Only while the latest CreateGrant still fails: a later success means grants were freed.
        evidence.append(
            Evidence(
                "cloudtrail:LookupEvents",
                f"CreateGrant at {creates[-1].get('eventTime')} failed with LimitExceededException",
            )
        )
    if f.grants is not None and len(f.grants) >= GRANTS_PER_KEY:
        evidence.append(
            Evidence(
                "kms:ListGrants", f"{len(f.grants)} grants on the key (quota {GRANTS_PER_KEY})"
            )
        )
    if not evidence:
        return None
    return ctx.finding(
        META,
        f"Key {ctx.key} has reached its grants quota, so new grants (and services that create them for {ctx.who}) fail; retire stale grants.",
        evidence,
        Fix(
            summary="Retire grants that are no longer needed, spread use across keys, or request a quota increase.",
            cli=f"aws kms list-grants --key-id {ctx.key}{region_flag(f)} --query 'Grants[].[GrantId,GranteePrincipal,CreationDate]'\n"
            f'aws kms retire-grant --key-id {ctx.key} --grant-id "$STALE_GRANT_ID"{region_flag(f)}',
            terraform="# remove aws_kms_grant resources that are no longer needed; Terraform retires them on destroy",
        ),
        severity="error" if observed else "warning",
    )
