"""Shared check for the key-state rules (key-state.html: the state table and its messages)."""

from __future__ import annotations

from harness.diagnosis.context import Context
from harness.diagnosis.model import Evidence


def state_evidence(ctx: Context, states: tuple[str, ...]) -> list[Evidence]:
    """Evidence that the key is in one of ``states``: DescribeKey, or AWS's message text."""
    out: list[Evidence] = []
    md = ctx.facts.key_metadata
    if md and md.get("KeyState") in states:
        out.append(
            Evidence(
                "kms:DescribeKey",
                f"KeyState is {md.get('KeyState')} (Enabled: {md.get('Enabled')}) for {md.get('Arn') or ctx.key}",
            )
        )
    sig = ctx.signal
    # DescribeKey is the current state; an older CloudTrail message does not override it.
    current = md.get("KeyState") if md else None
    if (
        sig
        and sig.state in states
        and (sig is ctx.observed or current is None or current in states)
    ):
        out.append(ctx.signal_evidence())
    return out
