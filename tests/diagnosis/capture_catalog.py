"""Re-record tests/diagnosis/catalog/: run each catalog scenario's failing call in the embedded lab
and keep the evidence bundle the investigation collected (not a test; run it by hand):

    .venv/bin/python tests/diagnosis/capture_catalog.py [scenario-id ...]   # from the repo root

(`python -m tests.diagnosis.capture_catalog` fails while terraform-compliance and radish-bdd
install a top-level `tests` package into the virtualenv: it shadows this repository's.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "catalog"


def main(ids: list[str]) -> int:
    from harness.lab import LabServer
    from harness.scenarios.catalog import load_catalog
    from harness.scenarios.results import error_matches
    from harness.scenarios.runner import Runner

    server = LabServer(upstream="moto", port=0)
    server.start()
    try:
        runner = Runner.for_lab(server.endpoint)
        for sc in load_catalog():
            if ids and sc.id not in ids:
                continue
            provisioner, resolved = runner.provision(sc)
            attempt = runner.attempt(provisioner, sc, resolved)
            if error_matches(sc, attempt.outcome, resolved):
                print(f"{sc.id}: the lab did not reproduce the failure; not recorded")
                continue
            record = {
                "scenario": sc.id,
                "expected_finding": sc.expected_finding,
                "expected_evidence": sc.expected.get("evidence", []),
                "reproduced": True,
                "bundle": attempt.bundle,
            }
            (OUT / f"{sc.id}.json").write_text(
                json.dumps(record, separators=(",", ":"), sort_keys=True, default=str) + "\n"
            )
            print(f"{sc.id}: recorded")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
