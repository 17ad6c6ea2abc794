"""`kmslab run` results for CI: JUnit XML (one testcase per scenario) and a Markdown summary."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.scenarios.results import RunResult


def _why(result: RunResult) -> str:
    return "\n".join(result.problems) or "not ok"


def junit(results: list[RunResult], suite: str = "kmslab run") -> str:
    """JUnit XML: a failing scenario is a <failure> with its problems as the text; one that
    fails only as its declared lab gap (a lab behaviour known to be missing) is <skipped>."""
    failures = [r for r in results if not r.ok and not r.lab_gap]
    skipped = [r for r in results if not r.ok and r.lab_gap]
    total_time = sum(r.seconds for r in results)
    root = ET.Element("testsuites", name=suite, tests=str(len(results)))
    root.set("failures", str(len(failures)))
    root.set("time", f"{total_time:.3f}")
    node = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(len(failures)),
        errors="0",
        skipped=str(len(skipped)),
        time=f"{total_time:.3f}",
    )
    for r in results:
        case = ET.SubElement(
            node, "testcase", classname="kmslab.scenarios", name=r.id, time=f"{r.seconds:.3f}"
        )
        if r in failures:
            first = r.problems[0] if r.problems else "not ok"
            failure = ET.SubElement(case, "failure", message=first, type="ScenarioNotOk")
            failure.text = _why(r)
        elif r in skipped:
            skip = ET.SubElement(case, "skipped", message=f"lab gap: {r.lab_gap}")
            skip.text = _why(r)
        props = ET.SubElement(case, "properties")
        for name, value in (
            ("error", r.error or ""),
            ("finding", r.finding or ""),
            ("expected_finding", r.expected_finding),
            ("fix_verified", str(r.fix_verified).lower()),
        ):
            ET.SubElement(props, "property", name=name, value=value)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(results: list[RunResult]) -> str:
    """A summary for a CI job page or a pull request comment."""
    passed = sum(r.ok for r in results)
    lines = [
        "## kmslab run",
        "",
        f"**{passed}/{len(results)} scenarios ok**",
        "",
        "| scenario | error reproduced | diagnosis | fix verified | time |",
        "|---|---|---|---|---:|",
    ]
    for r in results:
        error = f"{'yes' if r.reproduced else '**NO**'} ({r.error or 'succeeded'})"
        diagnosis = r.finding or "-"
        if r.finding != r.expected_finding:
            diagnosis = f"**{diagnosis}** (expected {r.expected_finding})"
        fixed = "yes" if r.fix_verified else "**NO**"
        lines.append(
            f"| {_cell(r.id)} | {_cell(error)} | {_cell(diagnosis)} | {fixed} | {r.seconds:.2f}s |"
        )
    problems = [r for r in results if not r.ok]
    if problems:
        lines += ["", "### Not ok", ""]
        for r in problems:
            gap = f" (lab gap: {r.lab_gap})" if r.lab_gap else ""
            lines.append(f"- `{r.id}`{gap}: {_cell('; '.join(r.problems) or 'not ok')}")
    return "\n".join(lines) + "\n"
