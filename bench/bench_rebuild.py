"""Rebuilding captured incidents: import + rebuild + reproduce per catalog bundle, median and worst.

Each captured catalog bundle (tests/diagnosis/catalog, tests/scenarios/captured) is imported
(`scenarios from-bundle`), rebuilt in the embedded lab and its call made again (what
`kmslab reproduce FILE` does). Baseline, same run and lab: reproducing the catalog scenario
the bundle came from (provision + call), so the ratio is the cost of going through a bundle.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from bench.report import Report, Row

ROOT = Path(__file__).resolve().parents[1]
CAPTURED = [ROOT / "tests" / "diagnosis" / "catalog", ROOT / "tests" / "scenarios" / "captured"]


def run(report: Report) -> None:
    from harness.lab import LabServer
    from harness.scenarios.call import issue_credentials, make_call
    from harness.scenarios.catalog import find
    from harness.scenarios.from_bundle import scenario_from_bundle
    from harness.scenarios.model import Scenario
    from harness.scenarios.runner import Runner

    server = LabServer(upstream="moto", port=0)
    server.start()
    rebuilt: list[float] = []
    direct: list[float] = []
    try:
        runner = Runner.for_lab(server.endpoint)

        def reproduce(scenario: Scenario) -> None:
            provisioner, resolved = runner.provision(scenario)
            caller = issue_credentials(provisioner, scenario.call, scenario.setup, resolved)
            make_call(caller, scenario.call, resolved)

        reproduce(find("key-disabled"))  # warm-up: first calls load models and clients
        for path in sorted(p for d in CAPTURED for p in d.glob("*.json")):
            record = json.loads(path.read_text())
            start = time.perf_counter()
            reproduce(find(record["scenario"]))
            direct.append(time.perf_counter() - start)
            start = time.perf_counter()
            reproduce(Scenario(scenario_from_bundle(record["bundle"], scenario_id="bench-import")))
            rebuilt.append(time.perf_counter() - start)
    finally:
        server.stop()
    base = statistics.median(direct)
    name = "catalog scenario reproduce, median"
    report.add(
        Row(
            f"import+rebuild+reproduce per bundle, median ({len(rebuilt)})",
            statistics.median(rebuilt) * 1000,
            "ms",
            name,
            base * 1000,
        )
    )
    report.add(
        Row(
            "import+rebuild+reproduce per bundle, worst",
            max(rebuilt) * 1000,
            "ms",
            "catalog scenario reproduce, worst",
            max(direct) * 1000,
        )
    )
