"""The key is scheduled for deletion; cancelling leaves it Disabled (deleting-keys-cancelling)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.fixes import key_call_fix, key_id_arg, region_flag, sh, tf_name
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._state import state_evidence

META = RuleMeta(
    code="KEY_PENDING_DELETION",
    runbook_step=2,
    severity="critical",
    title="Key pending deletion",
    reads=("kms:DescribeKey", "cloudtrail:LookupEvents"),
    catalog=("D42",),
    meaning="key state PendingDeletion",
    phase="key-state",
    node="state",
    fixes=("aws kms cancel-key-deletion", "aws kms enable-key"),
    explains=Explains(states=frozenset({"PendingDeletion"})),
)


def check(ctx: Context) -> Finding | None:
    evidence = state_evidence(ctx, ("PendingDeletion",))
    if not evidence:
        return None
    md = ctx.facts.key_metadata or {}
    when = md.get("DeletionDate")
    if when:
        evidence.append(
            Evidence(
                "kms:DescribeKey",
                f"DeletionDate {when}: after it the key and its ciphertexts are gone",
            )
        )
    rf = region_flag(ctx.facts)
    return ctx.finding(
        META,
        f"Key {ctx.key} is pending deletion{f' (deleted on {when})' if when else ''}; cancel the deletion and "
        f"re-enable it so {ctx.who} can call {ctx.action}.",
        evidence,
        key_call_fix(
            ctx.facts,
            f"Cancel the deletion of {ctx.key}, then enable it (a cancelled key comes back Disabled).",
            [
                f"aws kms cancel-key-deletion --key-id {sh(key_id_arg(ctx.facts))}{rf}",
                f"aws kms enable-key --key-id {sh(key_id_arg(ctx.facts))}{rf}",
            ],
            "kms:CancelKeyDeletion",
            (
                "# Terraform cannot cancel a scheduled deletion: run the CLI commands first, then keep\n"
                f'resource "aws_kms_key" "{tf_name(ctx.facts.key_id)}" {{\n'
                "  # ...existing arguments...\n"
                "  is_enabled = true\n"
                "  lifecycle {\n"
                "    prevent_destroy = true\n"
                "  }\n"
                "}"
            ),
        ),
    )
