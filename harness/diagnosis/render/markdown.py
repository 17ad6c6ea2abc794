"""Markdown for an incident ticket, with a Mermaid flowchart of the evaluation path."""

from __future__ import annotations

from harness.diagnosis.model import Diagnosis


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _mermaid_label(text: str) -> str:
    return text.replace('"', "'").replace("[", "(").replace("]", ")")


def mermaid(report: Diagnosis) -> str:
    lines = ["flowchart TD"]
    prev = None
    for step in report.path:
        node = step.id.replace("-", "_")
        label = _mermaid_label(step.label + (" (BLOCKING)" if step.blocking else ""))
        lines.append(f'  {node}["{label}"]:::{step.status}')
        if prev is not None:
            lines.append(f"  {prev} --> {node}")
        prev = node
    lines.append("  classDef pass fill:#e6ffed,stroke:#2da44e")
    lines.append("  classDef fail fill:#ffebe9,stroke:#cf222e,stroke-width:3px")
    lines.append("  classDef unknown fill:#fff8c5,stroke:#bf8700")
    lines.append("  classDef skipped fill:#f6f8fa,stroke:#8c959f")
    return "\n".join(lines)


def render_markdown(report: Diagnosis) -> str:
    req = report.request
    primary = report.finding(report.primary) if report.primary else None
    out = [
        f"## KMS diagnosis: {report.decision} - `{report.primary or 'NO_FAULT_FOUND'}`",
        "",
        "| | |",
        "|---|---|",
        f"| Principal | `{_cell(str(req.get('principal', '?')))}` |",
        f"| Action | `{_cell(', '.join(map(str, req.get('actions') or [req.get('action', '?')])))}` |",
        f"| Key | `{_cell(str(req.get('key', '?')))}` |",
        f"| Region | `{_cell(str(req.get('region', '?')))}` |",
        f"| Decision | **{report.decision}** |",
    ]
    if report.agreement is not None:
        out.append(
            f"| Observed error | `{_cell(report.agreement.observed)}` ({'agrees' if report.agreement.agrees else '**disagrees**'}: {_cell(report.agreement.note)}) |"
        )
    for a in report.actions:
        out.append(f"| `{a.action}` | {a.decision}: `{a.primary or 'NO_FAULT_FOUND'}` |")
    shown = primary or (report.findings[0] if report.findings else None)
    if shown is not None:
        if shown.fix.applied_by or shown.fix.notes:
            extra = [f"Apply as `{shown.fix.applied_by}`: {shown.fix.applied_by_reason}"]
            extra += [f"**Note:** {n}" for n in shown.fix.notes]
        else:
            extra = []
        out += [
            "",
            "### Root cause",
            "",
            shown.summary,
            "",
            "### Fix",
            "",
            shown.fix.summary,
            "",
            *[line for e in extra for line in (e, "")],
            "```bash",
            shown.fix.cli,
            "```",
            "",
            "```hcl",
            shown.fix.terraform,
            "```",
        ]
    out += ["", "### Evaluation path", "", "```mermaid", mermaid(report), "```", ""]
    out += ["### Findings", "", "| code | step | severity | summary |", "|---|---|---|---|"]
    for f in report.findings:
        out.append(
            f"| `{f.code}` | {f.runbook_step if f.runbook_step is not None else '-'} | {f.severity} | {_cell(f.summary)} |"
        )
    out += ["", "### Evidence", "", "| finding | call | detail |", "|---|---|---|"]
    for f in report.findings:
        for e in f.evidence:
            out.append(f"| `{f.code}` | `{_cell(e.call)}` | {_cell(e.detail)} |")
    if report.unreadable:
        out += ["", "### Could not read (or only another account can read)", ""]
        out += [f"- `{u.call}`: {u.error} ({u.reason})" for u in report.unreadable]
    return "\n".join(out) + "\n"
