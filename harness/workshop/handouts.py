"""Handouts: one page per exercise, generated from the scenario data, as Markdown or HTML.

Both formats render one block list, so they cannot drift apart: the story, learning goals,
the commands to start, the hints, then the solution in a section of its own (on a new
page when printed) so a trainer can hand out the first part alone.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from harness.errors import UsageError
from harness.workshop.exercises import Exercise

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"


def finding_title(code: str) -> str:
    """The diagnosis rule's title for a finding code (the code itself if no rule has it)."""
    try:
        from harness.diagnosis.registry import rules

        for rule in rules():
            if rule.meta.code == code:
                return rule.meta.title
    except Exception:  # the diagnosis package is optional for a handout
        return code
    return code


def cli_for(call: str) -> str:
    """`kms:DescribeKey` -> `aws kms describe-key`."""
    service, _, operation = call.partition(":")
    words = "".join("-" + c.lower() if c.isupper() else c for c in operation).lstrip("-")
    return f"aws {service} {words}"


@dataclass
class Block:
    kind: str  # "h1", "h2", "p", "ol", "ul", "code"
    text: str = ""
    items: list[str] = field(default_factory=list)
    css: str = ""


def learning_goals(exercise: Exercise) -> list[str]:
    scenario = exercise.scenario
    error = scenario.expected_error
    goals = []
    if error:
        goals.append(
            f"Reproduce the failure and read the error the application gets ({error['code']}) "
            "as evidence, not as the diagnosis."
        )
    step = scenario.runbook_step
    where = f"up to Diagnosis step {step}" if isinstance(step, int) else "and its extra checks"
    goals.append(f"Work through the runbook in order, {where}, with read-only credentials.")
    evidence = scenario.expected.get("evidence") or []
    if evidence:
        commands = ", ".join(f"`{cli_for(c)}`" for c in evidence)
        goals.append(f"Find the deciding evidence with the AWS CLI ({commands}).")
    goals.append(
        'Fix it with the smallest change a reviewer would accept: no Principal "*", no '
        "kms:* for everyone, no Deny removed that protects someone else."
    )
    goals.append("Prove the fix as the application's principal with `kmslab workshop check`.")
    return goals


def capability_blocks() -> list[Block]:
    """`access.capabilities_markdown`, the issued policies in words, as handout blocks."""
    from harness.workshop.access import capabilities_markdown

    out: list[Block] = []
    items: list[str] = []
    for line in capabilities_markdown().splitlines():
        if line.startswith("- "):
            items.append(line[2:].replace("`", ""))
            continue
        if items:
            out.append(Block("ul", items=items))
            items = []
        if line.startswith("### "):
            out.append(Block("h2", line[4:]))
        elif line.strip():
            out.append(Block("p", line.replace("**", "").replace("`", "")))
    if items:
        out.append(Block("ul", items=items))
    return out


def blocks(exercise: Exercise, endpoint: str = DEFAULT_ENDPOINT) -> list[Block]:
    scenario = exercise.scenario
    start = "\n".join(
        [
            "export KMSLAB_PARTICIPANT=<your-name>",
            f"kmslab workshop start {exercise.id} --endpoint-url {endpoint}",
            "# paste the investigator settings it prints (read-only), then investigate:",
            "aws sts get-caller-identity",
            "# paste the fixer settings to change the setup (AWS CLI or Terraform), then:",
            "kmslab workshop check",
            "kmslab workshop hint        # one hint at a time",
            "kmslab workshop solution    # the fix and why",
        ]
    )
    out = [
        Block("h1", f"Exercise {exercise.id}: {exercise.title}"),
        Block("h2", "The incident"),
        Block("p", exercise.story),
        Block("h2", "Learning goals"),
        Block("ul", items=learning_goals(exercise)),
        Block("h2", "Start"),
        Block("code", start),
        Block(
            "p",
            "Each participant gets lab accounts of their own: nobody else sees or changes "
            "your setup. If the fix belongs in the application (its key reference, Region, "
            "encryption context, grant token, the service it goes through), edit the app.yaml "
            "that start names.",
        ),
        *capability_blocks(),
        Block("h2", "Hints"),
        Block("ol", items=exercise.hints) if exercise.hints else Block("p", "None."),
    ]
    fix = scenario.fix
    finding = scenario.expected_finding
    solution = [
        Block("h2", "Solution", css="solution"),
        Block("p", str(fix["summary"]).strip()),
        Block(
            "p",
            f"Why: the root cause is {finding} ({finding_title(finding)}), runbook "
            f"step {scenario.runbook_step}.",
        ),
    ]
    if fix.get("setup"):
        solution.append(Block("p", "What the fix changes in the setup (catalog names):"))
        solution.append(Block("code", yaml.safe_dump(fix["setup"], sort_keys=False).rstrip()))
    sources = [str(s) for s in scenario.raw.get("sources", [])]
    if sources:
        solution.append(Block("p", "Sources:"))
        solution.append(Block("ul", items=sources))
    return out + solution


def to_markdown(items: list[Block]) -> str:
    lines: list[str] = []
    for block in items:
        if block.kind == "h1":
            lines += [f"# {block.text}", ""]
        elif block.kind == "h2":
            if block.css == "solution":
                lines += ["---", ""]
            lines += [f"## {block.text}", ""]
        elif block.kind == "p":
            lines += [block.text, ""]
        elif block.kind == "ul":
            lines += [f"- {item}" for item in block.items] + [""]
        elif block.kind == "ol":
            lines += [f"{i}. {item}" for i, item in enumerate(block.items, 1)] + [""]
        elif block.kind == "code":
            lines += ["```", block.text, "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def _inline(text: str) -> str:
    """Escape, then turn `code` spans into <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; line-height: 1.45; }
pre { background: #f4f4f4; padding: .75rem; white-space: pre-wrap; }
section.solution { border-top: 2px dashed #999; margin-top: 2rem; }
@media print { section.solution { page-break-before: always; border: none; } body { margin: 0; } }
"""


def to_html(items: list[Block]) -> str:
    title = next((b.text for b in items if b.kind == "h1"), "kmslab exercise")
    body: list[str] = ['<section class="exercise">']
    for block in items:
        if block.kind == "h1":
            body.append(f"<h1>{html.escape(block.text)}</h1>")
        elif block.kind == "h2":
            if block.css == "solution":
                body += ["</section>", '<section class="solution">']
            body.append(f"<h2>{html.escape(block.text)}</h2>")
        elif block.kind == "p":
            body.append(f"<p>{_inline(block.text)}</p>")
        elif block.kind in ("ul", "ol"):
            body.append(f"<{block.kind}>")
            body += [f"<li>{_inline(item)}</li>" for item in block.items]
            body.append(f"</{block.kind}>")
        elif block.kind == "code":
            body.append(f"<pre><code>{html.escape(block.text)}</code></pre>")
    body.append("</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def handout(exercise: Exercise, fmt: str = "md", endpoint: str = DEFAULT_ENDPOINT) -> str:
    items = blocks(exercise, endpoint)
    if fmt == "md":
        return to_markdown(items)
    if fmt == "html":
        return to_html(items)
    raise UsageError(f"unknown handout format {fmt!r}: use md or html")


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)
