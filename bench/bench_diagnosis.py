"""Diagnosis: diagnose() of a bundle, median ms (target < 50 ms), against same-run baselines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.report import Report, Row, median, percentile, timed

REPEAT = 200


def _bundles() -> dict[str, dict[str, object]]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from diagnosis import cases  # the hand-written bundles of tests/diagnosis

    return {
        "identity deny (healthy IAM path)": cases.iam_none(),
        "principal mismatch": cases.mismatch_session(),
        "SCP levels": cases.scp_blocks(),
        "replica divergence": cases.mrk_diverged(),
    }


def run(report: Report) -> None:
    from harness.diagnosis import diagnose
    from harness.diagnosis.evaluation import build_input
    from harness.diagnosis.facts import Facts
    from harness.evidence.bundle import validate_bundle
    from harness.policy import evaluate

    for name, bundle in _bundles().items():
        text = json.dumps(bundle)
        doc, _, _ = build_input(Facts(bundle))
        doc.pop("_names", None)

        def one_eval(doc: dict[str, object] = doc) -> None:
            evaluate(doc).trace  # noqa: B018  (the trace is built on access, as diagnose reads it)

        def load(text: str = text) -> None:
            validate_bundle(json.loads(text))

        def whole(bundle: dict[str, object] = bundle) -> None:
            diagnose(bundle)

        base = median(timed(one_eval, REPEAT)) * 1000
        load_ms = median(timed(load, REPEAT)) * 1000
        samples = timed(whole, REPEAT)
        report.add(
            Row(
                f"diagnose: {name} (median)",
                median(samples) * 1000,
                "ms",
                "one evaluator call + trace",
                base,
                target="< 50 ms",
            )
        )
        report.add(
            Row(
                f"diagnose: {name} (p95)",
                percentile(samples, 95) * 1000,
                "ms",
                "load + validate bundle",
                load_ms,
            )
        )
