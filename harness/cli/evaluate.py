"""`kmslab evaluate --request FILE [--format text|json]`: the policy evaluator alone (contract 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from harness.errors import UsageError


def _load(path: str) -> Any:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"request file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read request file {path}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}: malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def _mark(ok: bool | None) -> str:
    return "yes" if ok else "no"


def render_text(result: dict[str, Any]) -> str:
    lines = [f"decision: {result['decision']}"]
    if result["blocked_by"]:
        lines.append(f"blocked by: {', '.join(result['blocked_by'])}")
    if result["allowed_by"]:
        lines.append(f"allowed by: {', '.join(result['allowed_by'])}")
    if result["message"]:
        lines.append(f"message: {result['message']}")
    for w in result.get("warnings", []):
        lines.append(f"warning: {w}")
    if result.get("unconfirmed"):
        lines.append("note: AWS's exact message text for this case is unconfirmed")
    lines.append("trace:")
    for entry in result["trace"]:
        level = f" level {entry['level']}" if entry.get("level") is not None else ""
        lines.append(f"  [{entry['layer']}] {entry['policy']}{level}: {entry['result']}")
        if entry.get("reason"):
            lines.append(f"      {entry['reason']}")
        for st in entry.get("statements", []):
            if "grant" in st:
                lines.append(
                    f"    grant {st['grant']}: {'matched' if st['matched'] else 'no match'}"
                    f" (grantee {_mark(st['grantee']['matched'])}: {st['grantee']['reason']};"
                    f" operation {_mark(st['operation']['matched'])};"
                    f" constraints {_mark(st['constraints']['matched'])}: {st['constraints']['reason']})"
                )
                continue
            sid = f" {st['sid']!r}" if st.get("sid") else ""
            head = f"    statement {st['index']}{sid} {st['effect']}: "
            head += "matched" if st["matched"] else "no match"
            lines.append(head)
            if "reason" in st:
                lines.append(f"      {st['reason']}")
                continue
            for part in ("action", "resource", "principal"):
                if part in st:
                    d = st[part]
                    neg = "Not" if d.get("negated") else ""
                    detail = f"      {neg}{part}: {_mark(d['matched'])} - {d['value']} vs {d['patterns']}"
                    if d.get("reason") and not d["matched"]:
                        detail += f" ({d['reason']})"
                    lines.append(detail)
            for c in st.get("conditions", []):
                actual = c["actual"] if c["present"] else "(absent)"
                lines.append(
                    f"      condition {c['operator']} {c['key']}: {_mark(c['matched'])}"
                    f" - request {actual} vs {c['expected']}"
                )
        for w in entry.get("warnings", []):
            lines.append(f"    warning: {w}")
    return "\n".join(lines)


@click.command("evaluate")
@click.option("--request", "request_file", required=True, help="JSON input (contract section 2).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def evaluate(request_file: str, fmt: str) -> None:
    """Evaluate one KMS request against its key policy, IAM, grants, SCPs, RCPs and VPC endpoint."""
    from harness.policy import evaluate as run

    doc = _load(request_file)
    result = run(doc).to_dict()
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(render_text(result))
