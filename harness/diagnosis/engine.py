"""diagnose(bundle): facts -> one evaluator run -> rules -> ranking -> report. No I/O."""

from __future__ import annotations

from typing import Any

from harness.diagnosis import ranking
from harness.diagnosis.context import Context
from harness.diagnosis.evaluation import evaluate
from harness.diagnosis.facts import Facts
from harness.diagnosis.flow import evaluation_path
from harness.diagnosis.model import ActionResult, Diagnosis, Unreadable
from harness.diagnosis.registry import rules
from harness.errors import UsageError


def diagnose(bundle: dict[str, Any]) -> Diagnosis:
    """Diagnose one evidence bundle (contract section 3) into a report (contract section 4).

    A bundle of several actions (contract section 6) is diagnosed once per action; the report is
    the one of the action whose primary finding is the most fundamental (ranking.rank: a key
    that cannot be found or used fails every action; ties go to the first action), with the
    other actions' findings after it and one decision/primary per action under ``actions``.
    """
    if not isinstance(bundle, dict) or not isinstance(bundle.get("request"), dict):
        raise UsageError("not an evidence bundle: it needs a 'request' object (contract section 3)")
    actions = Facts(bundle).actions
    if len(actions) <= 1:
        return _diagnose_one(bundle)
    reports = []
    for i, action in enumerate(actions):
        request = dict(bundle["request"], action=action)
        if i > 0:
            # The observed error is the failing call's: the first action's (contract section 6).
            request.pop("observed_error", None)
        reports.append(_diagnose_one(dict(bundle, request=request)))
    return _combine(bundle["request"], actions, reports)


def _combine(request: dict[str, Any], actions: list[str], reports: list[Diagnosis]) -> Diagnosis:
    def rank(report: Diagnosis) -> int:
        if report.primary is None:
            return ranking.rank(None) + 1
        return ranking.rank(report.primary)

    chosen = min(range(len(reports)), key=lambda i: (rank(reports[i]), i))
    main = reports[chosen]
    findings = list(main.findings)
    seen = {f.code for f in findings}
    for report in reports:
        for finding in report.findings:
            if finding.code not in seen and finding.code != "NO_FAULT_FOUND":
                seen.add(finding.code)
                findings.append(finding)
    if main.primary is not None:
        findings = [f for f in findings if f.code != "NO_FAULT_FOUND"]
    unreadable = list(main.unreadable)
    for report in reports:
        unreadable += [u for u in report.unreadable if u not in unreadable]
    combined = Diagnosis(
        request=request,
        decision=main.decision,
        primary=main.primary,
        findings=findings,
        unreadable=unreadable,
        path=main.path,
        agreement=reports[0].agreement,
        evaluator_message=main.evaluator_message,
    )
    combined.actions = [
        ActionResult(action, r.decision, r.primary, r.codes())
        for action, r in zip(actions, reports, strict=True)
    ]
    return combined


def _diagnose_one(bundle: dict[str, Any]) -> Diagnosis:
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
