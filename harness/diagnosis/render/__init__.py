"""Renderers over one Diagnosis: text (terminal), json (contract section 4), markdown (tickets)."""

from __future__ import annotations

from harness.diagnosis.model import Diagnosis
from harness.errors import UsageError

FORMATS = ("text", "json", "markdown")


def render(report: Diagnosis, fmt: str = "text") -> str:
    if fmt == "json":
        from harness.diagnosis.render.json_out import render_json

        return render_json(report)
    if fmt == "markdown":
        from harness.diagnosis.render.markdown import render_markdown

        return render_markdown(report)
    if fmt == "text":
        from harness.diagnosis.render.text import render_text

        return render_text(report)
    raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "render"]
