"""Grants per key at the quota (50,000; resource-limits.html) or CreateGrant LimitExceeded (#40)."""

from __future__ import annotations

from typing import Any

from harness.diagnosis.appliers import key_applier
from harness.diagnosis.context import Context
from harness.diagnosis.facts import Facts
from harness.diagnosis.fixes import applier_notes, key_id_arg, policy_principal, region_flag, sh
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
    fixes=("aws kms list-grants", "aws kms revoke-grant"),
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
        _revoke_fix(ctx),
        severity="error" if observed else "warning",
    )


def _stale_grant(f: Facts, caller: str) -> dict[str, Any] | None:
    """The grant to free first: the oldest one that is not the caller's own (ListGrants order
    is not age order, CreationDate is)."""
    others = [
        g
        for g in f.grants or []
        if isinstance(g, dict) and g.get("GrantId") and g.get("GranteePrincipal") != caller
    ]
    return min(others, key=lambda g: str(g.get("CreationDate") or ""), default=None)


def _revoke_fix(ctx: Context) -> Fix:
    f = ctx.facts
    key = key_id_arg(f)
    stale = _stale_grant(f, policy_principal(f))
    if stale is None:
        return Fix(
            summary="Retire grants that are no longer needed, spread use across keys, or request a quota increase.",
            cli=f"aws kms list-grants --key-id {sh(key)}{region_flag(f)} --query 'Grants[].[GrantId,GranteePrincipal,CreationDate]'",
            terraform="# remove aws_kms_grant resources that are no longer needed; Terraform retires them on destroy",
        )
    applier = key_applier(f, "kms:RevokeGrant")
    grant_id = str(stale["GrantId"])
    return Fix(
        summary=f"Revoke grant {grant_id} (the oldest, created {stale.get('CreationDate')} for "
        f"{stale.get('GranteePrincipal')}) if it is no longer needed, and any other stale grants; "
        "or request a quota increase.",
        cli=f"aws kms revoke-grant --key-id {sh(key)} --grant-id {sh(grant_id)}{region_flag(f)}",
        terraform="# remove aws_kms_grant resources that are no longer needed; Terraform retires them on destroy",
        applied_by=applier.arn,
        applied_by_reason=applier.how,
        notes=applier_notes(applier),
    )
