"""Key Creating (replica being created) or Updating (primary Region change): wait and retry."""

from __future__ import annotations

from harness.diagnosis.callfixes import retry_fix
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import region_flag
from harness.diagnosis.model import Finding
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._state import state_evidence

META = RuleMeta(
    code="KEY_STATE_TRANSITION",
    runbook_step=2,
    severity="warning",
    title="Key Creating or Updating",
    reads=("kms:DescribeKey",),
    catalog=("D46",),
    meaning="key Creating or Updating",
    phase="key-state",
    # A transient state (Creating, Updating) ranks after the states that need a fix.
    after=("KEY_UNAVAILABLE",),
    node="state",
    fixes=("aws kms {operation}",),
    explains=Explains(states=frozenset({"Creating", "Updating"})),
)


def check(ctx: Context) -> Finding | None:
    evidence = state_evidence(ctx, ("Creating", "Updating"))
    if not evidence:
        return None
    return ctx.finding(
        META,
        f"Key {ctx.key} is in a transient state (Creating or Updating); {ctx.who} should retry {ctx.action} "
        "once DescribeKey shows Enabled.",
        evidence,
        retry_fix(
            ctx.facts,
            "Wait for the key to reach Enabled, then retry with backoff.",
            f"aws kms describe-key --key-id {ctx.key} --query KeyMetadata.KeyState --output text{region_flag(ctx.facts)}",
            (
                "# no configuration change: depend on the replica before using it\n"
                'data "aws_kms_key" "ready" {\n'
                f'  key_id = "{ctx.key}"\n'
                "}"
            ),
        ),
        severity="error",
    )
