"""The grant token passed is not valid: InvalidGrantTokenException (catalog #35)."""

from __future__ import annotations

from harness.diagnosis.callfixes import caller_fix, cli_call
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import tf_grant
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._grants import grant_operations

META = RuleMeta(
    code="GRANT_TOKEN_INVALID",
    runbook_step=7,
    severity="error",
    title="Invalid grant token",
    reads=("cloudtrail:LookupEvents",),
    catalog=("C35",),
    meaning="the grant token passed is not valid",
    phase="resolution",
    # A key must be found before a grant token for it is checked.
    after=("KEY_NOT_FOUND",),
    node="resolve",
    fixes=("aws kms {operation}",),
    explains=Explains(errors=frozenset({"InvalidGrantTokenException"})),
)


def check(ctx: Context) -> Finding | None:
    # The observed error, or the latest failure of this call not followed by a success.
    evidence = [ctx.signal_evidence()] if ctx.signal_code("InvalidGrantTokenException") else []
    if not evidence:
        return None
    if ctx.facts.grant_tokens:
        evidence.append(
            Evidence(
                "request",
                f"the call passed {ctx.facts.grant_tokens} grant token(s) (at most 10 are accepted)",
            )
        )
    return ctx.finding(
        META,
        f"{ctx.who} passed a grant token that KMS rejects for {ctx.action} on {ctx.key}; pass the exact GrantToken "
        "returned by CreateGrant, or none once the grant has propagated.",
        evidence,
        caller_fix(
            ctx.facts,
            "Pass the exact token returned by CreateGrant (unmodified, at most 10 tokens), or drop GrantTokens after propagation.",
            # The token is a secret of whoever created the grant: it is never in the evidence.
            cli_call(ctx.facts, extra=' --grant-tokens "$GRANT_TOKEN"'),
            tf_grant(ctx.facts, grant_operations(ctx.facts.action)),
        ),
        implies="Failed",
    )
