"""`kmslab evaluate`: the policy evaluator alone (contract 2), or what-if on a bundle (section 6)."""

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
        raise UsageError(f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
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


def _policy(path: str, what: str) -> dict[str, Any]:
    doc = _load(path)
    if not isinstance(doc, dict):
        raise UsageError(f"{path}: a {what} must be a JSON object (a policy document)")
    return doc


def _grant(value: str) -> dict[str, Any]:
    """A grant as inline JSON (starting with `{`) or the path of a JSON file."""
    if value.lstrip().startswith("{"):
        try:
            doc = json.loads(value)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--grant: malformed JSON: {exc.msg} at column {exc.colno}") from None
    else:
        doc = _load(value)
    if not isinstance(doc, dict):
        raise UsageError("--grant: a grant is a JSON object (ListGrants' shape)")
    return doc


@click.command("evaluate")
@click.option("--request", "request_file", help="JSON input (contract section 2).")
@click.option(
    "--bundle",
    "bundle_file",
    help="Evidence bundle: re-decide its captured request (what-if with the options below).",
)
@click.option("--key-policy", "key_policy", help="With --bundle: proposed key policy (JSON file).")
@click.option(
    "--identity-policy",
    "identity_policies",
    multiple=True,
    help="With --bundle: proposed identity policy (JSON file); repeat for several; replaces all.",
)
@click.option(
    "--permissions-boundary",
    "boundary",
    help="With --bundle: proposed permissions boundary (JSON file).",
)
@click.option(
    "--grant",
    "grants",
    multiple=True,
    metavar="JSON|FILE",
    help="With --bundle: proposed grant (ListGrants shape); repeat for several; replaces all.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def evaluate(
    request_file: str | None,
    bundle_file: str | None,
    key_policy: str | None,
    identity_policies: tuple[str, ...],
    boundary: str | None,
    grants: tuple[str, ...],
    fmt: str,
) -> None:
    """Evaluate one KMS request against its key policy, IAM, grants, SCPs, RCPs and VPC endpoint.

    With --bundle, re-decide a captured incident before and after proposed policies
    ("will my fix work?") and name the statements that changed the decision.
    """
    from harness.policy import evaluate as run

    if (request_file is None) == (bundle_file is None):
        raise UsageError("give exactly one of --request FILE or --bundle FILE")
    if request_file is not None:
        if key_policy or identity_policies or grants or boundary:
            raise UsageError("proposed policies need --bundle (with --request, edit the file)")
        doc = _load(request_file)
        result = run(doc).to_dict()
        if fmt == "json":
            click.echo(json.dumps(result, indent=2))
        else:
            click.echo(render_text(result))
        return
    from harness.diagnosis.whatif import Proposal, what_if
    from harness.diagnosis.whatif import render_text as render_what_if

    assert bundle_file is not None
    proposal = Proposal(
        key_policy=_policy(key_policy, "key policy") if key_policy else None,
        identity_policies=[_policy(p, "identity policy") for p in identity_policies] or None,
        grants=[_grant(g) for g in grants] or None,
        permissions_boundary=_policy(boundary, "permissions boundary") if boundary else None,
    )
    outcome = what_if(_load(bundle_file), proposal)
    if fmt == "json":
        click.echo(json.dumps(outcome.to_dict(), indent=2))
    else:
        click.echo(render_what_if(outcome))
