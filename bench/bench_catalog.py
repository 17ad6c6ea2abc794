"""Scenario catalog: the full loop natively for the whole catalog, and Terraform applies."""

from __future__ import annotations

import time

from bench.report import Report, Row


def run(report: Report) -> None:
    from harness.lab import LabServer
    from harness.scenarios.batch import run_batch
    from harness.scenarios.catalog import find, load_catalog
    from harness.scenarios.runner import Runner
    from harness.scenarios.terraform import TerraformProvisioner, exclusive, unsupported_reason

    catalog = load_catalog()
    server = LabServer(upstream="moto", port=0)
    server.start()
    try:
        start = time.perf_counter()
        results = run_batch(catalog, server.endpoint, via="native")
        native = time.perf_counter() - start
        runner = Runner.for_lab(server.endpoint)
        # Baseline: one scenario applied alone with Terraform.
        runner.reset()
        start = time.perf_counter()
        TerraformProvisioner(server.endpoint, runner.targets).provision([find("key-disabled")])
        single = time.perf_counter() - start
        shared = [s for s in catalog if not unsupported_reason(s) and not exclusive(s)]
        runner.reset()
        start = time.perf_counter()
        TerraformProvisioner(server.endpoint, runner.targets).provision(shared)
        whole = time.perf_counter() - start
    finally:
        server.stop()
    report.add(
        Row(
            f"native full loop, whole catalog ({len(results)} scenarios, {sum(r.ok for r in results)} ok)",
            native,
            "s",
            "terraform apply of one scenario",
            single,
            target="<= 30 s for 45 scenarios",
        )
    )
    report.add(
        Row(
            f"terraform whole-catalog apply ({len(shared)} scenarios)",
            whole,
            "s",
            "terraform apply of one scenario",
            single,
            target=f"< {len(shared)} x baseline",
        )
    )
