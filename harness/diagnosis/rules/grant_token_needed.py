"""Access rests on a grant too new to have propagated, and no grant token was passed (#34)."""

from __future__ import annotations

from datetime import datetime, timedelta

from harness.diagnosis.callfixes import caller_fix, cli_call
from harness.diagnosis.context import Context
from harness.diagnosis.facts import is_access_denied, parse_time
from harness.diagnosis.fixes import tf_grant
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import RuleMeta
from harness.diagnosis.rules._grants import (
    PROPAGATION,
    caller_grants,
    constraint_problem,
    covers,
    failure_time,
    grant_operations,
)

META = RuleMeta(
    code="GRANT_TOKEN_NEEDED",
    runbook_step=7,
    severity="error",
    title="New grant used without its grant token",
    reads=("kms:ListGrants", "cloudtrail:LookupEvents"),
    catalog=("C34",),
    layer="grant",
    meaning="access rests on a grant too new to have propagated; pass its grant token",
    phase="key-trust",
    # A grant meant for this call explains the missing statement; one too new to have
    # propagated explains the grant's failure before its constraints or operations.
    after=("KEY_POLICY_TOO_LARGE",),
    node="key-trust",
    fixes=("aws kms {operation}",),
)


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    if f.grant_tokens not in (0, None) or not (ctx.signal and is_access_denied(ctx.signal.code)):
        return None
    if ctx.ev.ran and ctx.ev.decision != "Allowed":
        return None  # something other than propagation blocks; those rules say what
    when = failure_time(ctx)
    if when is None:
        return None
    ops = grant_operations(f.action)
    fresh = []
    for g in caller_grants(ctx):
        created = parse_time(g.get("CreationDate"))
        if (
            created
            and covers(g, ops)
            and constraint_problem(g, f.encryption_context) is None
            and timedelta_ok(created, when)
        ):
            fresh.append((g, created))
    if not fresh:
        return None
    g, created = fresh[-1]
    age = max(0, int((when - created).total_seconds()))
    evidence = [
        Evidence(
            "kms:ListGrants",
            f"grant {g.get('GrantId', '?')} for {g.get('GranteePrincipal')} ({', '.join(g.get('Operations') or [])}) was created {created.isoformat()}, {age} s before the failure",
        ),
        Evidence(
            "request",
            "the failing call passed no grant token"
            if f.grant_tokens == 0
            else "the request does not record grant tokens",
        ),
        ctx.signal_evidence(),
    ]
    if ctx.ev.ran:
        evidence.append(
            Evidence(
                "kmslab evaluate",
                f"with the grant in effect the request is allowed (allowed by {', '.join(ctx.ev.allowed_by) or 'grant'})",
            )
        )
    return ctx.finding(
        META,
        f"{ctx.who} used grant {g.get('GrantId', '?')} on {ctx.key} {age} s after it was created, before it propagated, "
        "without its grant token; pass the token from CreateGrant (or retry after a few minutes).",
        evidence,
        caller_fix(
            f,
            "Pass the GrantToken returned by CreateGrant in GrantTokens (it is not in ListGrants or CloudTrail), or retry once the grant has propagated.",
            # GRANT_TOKEN holds the GrantToken CreateGrant returned (never in ListGrants or CloudTrail).
            cli_call(f, extra=' --grant-tokens "$GRANT_TOKEN"'),
            (
                "# aws_kms_grant exports the token: hand it to the consumer that calls KMS right away\n"
                + tf_grant(
                    f, [str(o) for o in g.get("Operations") or []] or grant_operations(f.action)
                )
            ),
        ),
        implies="ImplicitDeny",
    )


# CloudTrail times have whole seconds while CreationDate has fractions: a grant used within the
# second it was created can look a little younger than the failure.
SKEW = timedelta(seconds=2)


def timedelta_ok(created: datetime, when: datetime) -> bool:
    return bool(-SKEW <= when - created <= PROPAGATION)
