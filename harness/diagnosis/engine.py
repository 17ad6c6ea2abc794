"""diagnose(bundle): facts -> one evaluator run -> rules -> ranking -> report. No I/O."""

from __future__ import annotations

from typing import Any

from harness.diagnosis import ranking
from harness.diagnosis.context import Context
from harness.diagnosis.evaluation import evaluate
from harness.diagnosis.facts import Facts
from harness.diagnosis.flow import evaluation_path
from harness.diagnosis.model import Diagnosis, Unreadable
from harness.diagnosis.registry import rules
from harness.errors import UsageError


def diagnose(bundle: dict[str, Any]) -> Diagnosis:
    """Diagnose one evidence bundle (contract section 3) into a report (contract section 4)."""
    if not isinstance(bundle, dict) or not isinstance(bundle.get("request"), dict):
        raise UsageError("not an evidence bundle: it needs a 'request' object (contract section 3)")
    facts = Facts(bundle)
    ev = evaluate(facts)
    ctx = Context.build(facts, ev)
    for rule in rules():
        finding = rule.check(ctx)
        if finding is not None:
            ctx.findings.append(finding)
    ranked = ranking.order(ctx.findings, ctx.observed)
    primary = ranking.choose_primary(ranked)
    if primary is not None and primary.code != ranked[0].code:
        ranked.remove(primary)
        ranked.insert(0, primary)
    unknown = ctx.evidence_blocked() or not ev.ran
    decision = ranking.decide(primary, ev.decision, unknown, ctx.observed is not None)
    report = Diagnosis(
        request=facts.request,
        decision=decision,
        primary=primary.code if primary else None,
        findings=ranked,
        unreadable=[
            Unreadable(
                c.name,
                c.error_code or "Error",
                c.permission,
                c.unreadable_reason,
                c.throttled,
                information=bool(c.only_by),
            )
            for c in facts.unreadable
        ],
        agreement=ranking.agreement(primary, ctx.observed, ev.message),
        evaluator_message=ev.message,
    )
    report.path = evaluation_path(ctx, report)
    return report
