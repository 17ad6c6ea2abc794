"""The key is Disabled: every cryptographic operation fails with DisabledException."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import key_call_fix, key_id_arg, region_flag, sh, tf_name
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._state import state_evidence

META = RuleMeta(
    code="KEY_DISABLED",
    runbook_step=2,
    severity="error",
    title="Key disabled",
    reads=("kms:DescribeKey", "cloudtrail:LookupEvents"),
    catalog=("D41",),
    meaning="key state Disabled",
    phase="key-state",
    # A key pending deletion is disabled too; the deletion is the cause to undo first.
    after=("KEY_PENDING_DELETION",),
    node="state",
    fixes=("aws kms enable-key",),
    explains=Explains(states=frozenset({"Disabled"})),
)


def check(ctx: Context) -> Finding | None:
    evidence = state_evidence(ctx, ("Disabled",))
    if not evidence:
        return None
    disable = [
        e
        for e in ctx.facts.kms_events(("DisableKey",))
        if ctx.facts.key_id in str(e.get("requestParameters"))
    ]
    if disable:
        last = disable[-1]
        who = (last.get("userIdentity") or {}).get("arn", "someone")
        evidence.append(
            Evidence("cloudtrail:LookupEvents", f"DisableKey by {who} at {last.get('eventTime')}")
        )
    return ctx.finding(
        META,
        f"Key {ctx.key} is disabled, so {ctx.action} by {ctx.who} fails; enable the key.",
        evidence,
        key_call_fix(
            ctx.facts,
            f"Enable {ctx.key} (EnableKey); check first that it was not disabled on purpose.",
            [f"aws kms enable-key --key-id {sh(key_id_arg(ctx.facts))}{region_flag(ctx.facts)}"],
            "kms:EnableKey",
            (
                f'resource "aws_kms_key" "{tf_name(ctx.facts.key_id)}" {{\n'
                "  # ...existing arguments...\n"
                "  is_enabled = true\n"
                "}"
            ),
        ),
    )
