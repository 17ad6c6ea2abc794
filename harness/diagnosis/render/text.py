"""Terminal text: a short verdict, then the evaluation path as a tree with the blocking branch marked."""

from __future__ import annotations

from harness.diagnosis.model import Diagnosis

MARK = {"pass": "ok  ", "fail": "FAIL", "unknown": "??  ", "skipped": "--  "}


def render_text(report: Diagnosis) -> str:
    req = report.request
    lines = [
        f"Verdict: {report.decision} - {report.primary or 'no fault found'}",
        f"Request: {req.get('principal', '?')} {req.get('action', '?')} on {req.get('key', '?')} in {req.get('region', '?')}",
    ]
    if report.actions:
        lines.append("Actions:")
        lines.extend(
            f"  {a.action}: {a.decision} - {a.primary or 'no fault found'}" for a in report.actions
        )
    primary = (
        report.finding(report.primary)
        if report.primary
        else (report.findings[0] if report.findings else None)
    )
    if primary is not None:
        lines.append(f"Cause:   {primary.summary}")
        lines.append(f"Fix:     {primary.fix.summary}")
        if primary.fix.applied_by or primary.fix.applied_by_reason:
            lines.append(
                f"Apply as: {primary.fix.applied_by or '?'} ({primary.fix.applied_by_reason})"
            )
        lines.extend(f"Note:    {note}" for note in primary.fix.notes)
        for cmd in primary.fix.cli.splitlines():
            lines.append(f"  $ {cmd}" if not cmd.startswith("#") else f"    {cmd}")
    if report.agreement is not None:
        tag = "agrees" if report.agreement.agrees else "DISAGREES"
        lines.append(f"Observed error {tag}: {report.agreement.observed}")
        lines.append(f"  {report.agreement.note}")
    lines.append("")
    lines.append("Evaluation path (AWS KMS authorization order):")
    for i, step in enumerate(report.path):
        last = i == len(report.path) - 1
        branch = "`-- " if last else "|-- "
        arrow = "  <== blocking" if step.blocking else ""
        lines.append(f"{branch}[{MARK.get(step.status, step.status)}] {step.label}{arrow}")
        if step.detail and step.status != "pass":
            pad = "    " if last else "|   "
            lines.append(f"{pad}    {step.detail}")
    others = [f for f in report.findings if primary is None or f is not primary]
    if others:
        lines.append("")
        lines.append("Other findings:")
        for f in others:
            lines.append(f"  - {f.code} ({f.severity}): {f.summary}")
    if primary is not None:
        lines.append("")
        lines.append(f"Evidence for {primary.code}:")
        for e in primary.evidence:
            lines.append(f"  - {e.call}: {e.detail}")
        lines.append("")
        lines.append("Terraform:")
        lines.extend("  " + line for line in primary.fix.terraform.splitlines())
    refused = [u for u in report.unreadable if not u.information]
    info = [u for u in report.unreadable if u.information]
    if refused:
        lines.append("")
        lines.append(
            "Unreadable: " + ", ".join(f"{u.call} ({u.error}: {u.reason})" for u in refused)
        )
    if info:
        lines.append("")
        lines.append(
            "Information (a limit of the investigator's account, not a missing permission):"
        )
        lines.extend(f"  - {u.call}: {u.reason}" for u in info)
    return "\n".join(lines) + "\n"
