"""Grants of the caller (grants.html; create-grant-overview.html#grant-constraints)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from harness.aws.operations import actions_of
from harness.diagnosis.context import Context
from harness.diagnosis.facts import parse_time

# A grant can take up to about five minutes to be usable everywhere (grants.html).
PROPAGATION = timedelta(minutes=5)


def grant_operations(action: str) -> list[str]:
    op = action.split(":", 1)[-1]
    return list(actions_of("ReEncrypt" if op.lower() == "reencrypt" else op))


def caller_grants(ctx: Context) -> list[dict[str, Any]]:
    f = ctx.facts
    names = {f.principal_arn}
    if f.role_arn:
        names.add(f.role_arn)
    if f.principal.role_arn:
        names.add(f.principal.role_arn)
    ent = f.identity_entity or {}
    if ent.get("Arn"):
        names.add(str(ent["Arn"]))
    return [g for g in f.grants or [] if g.get("GranteePrincipal") in names]


def covers(grant: dict[str, Any], ops: list[str]) -> bool:
    have = {str(o).lower() for o in grant.get("Operations") or []}
    return all(o.lower() in have for o in ops)


def constraint_problem(grant: dict[str, Any], context: dict[str, str]) -> str | None:
    """Why the request's encryption context fails the grant's constraint (None if it passes).

    Constraint keys compare case-insensitively, values case-sensitively (GrantConstraints docs).
    """
    cons = grant.get("Constraints") or {}
    have = {k.lower(): v for k, v in context.items()}
    equals = cons.get("EncryptionContextEquals")
    if isinstance(equals, dict) and equals:
        want = {k.lower(): v for k, v in equals.items()}
        if want != have:
            return f"EncryptionContextEquals {equals} but the request sends {context or '{}'}"
    subset = cons.get("EncryptionContextSubset")
    if isinstance(subset, dict) and subset:
        missing = {k: v for k, v in subset.items() if have.get(k.lower()) != v}
        if missing:
            return (
                f"EncryptionContextSubset requires {missing}; the request sends {context or '{}'}"
            )
    return None


def failure_time(ctx: Context) -> datetime | None:
    for ev in reversed(ctx.facts.failing_events):
        t = parse_time(ev.get("eventTime"))
        if t:
            return t
    return ctx.facts.collected_at


def grant_denied(ctx: Context) -> bool:
    """The request is denied and grants are the access path in question."""
    if ctx.ev.ran and ctx.ev.decision == "Allowed":
        return False
    return ctx.denied
