"""Contract section 4 JSON."""

from __future__ import annotations

import json

from harness.diagnosis.model import Diagnosis


def render_json(report: Diagnosis) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=False, default=str)
