"""Many scenarios against one lab: one at a time natively, or one Terraform apply for all."""

from __future__ import annotations

import time
from collections.abc import Callable

from harness.scenarios.model import Scenario
from harness.scenarios.runner import Runner, RunResult
from harness.scenarios.terraform import TerraformProvisioner, exclusive, unsupported_reason

OnResult = Callable[[RunResult], None]


def run_batch(
    scenarios: list[Scenario],
    endpoint: str,
    *,
    via: str = "native",
    on_result: OnResult | None = None,
    runner: Runner | None = None,
) -> list[RunResult]:
    runner = runner or Runner.for_lab(endpoint)
    results: list[RunResult] = []

    def done(result: RunResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    if via == "native":
        for scenario in scenarios:
            done(runner.run(scenario))
        return results
    # Terraform: everything that can share the lab in one apply; the rest one by one
    # (alone with Terraform when it can build them, else natively).
    shared = [s for s in scenarios if not unsupported_reason(s) and not exclusive(s)]
    if shared:
        runner.reset()
        start = time.perf_counter()
        built = terraform_provisioner(runner, endpoint).provision(shared)
        share = (time.perf_counter() - start) / len(shared)
        for scenario in shared:
            provisioner, resolved = built[scenario.id]
            done(
                runner.run_provisioned(scenario, provisioner, resolved, time.perf_counter() - share)
            )
    for scenario in scenarios:
        if scenario in shared:
            continue
        if unsupported_reason(scenario):
            done(runner.run(scenario))
            continue
        runner.reset()
        start = time.perf_counter()
        provisioner, resolved = terraform_provisioner(runner, endpoint).provision([scenario])[
            scenario.id
        ]
        done(runner.run_provisioned(scenario, provisioner, resolved, start))
    return results


def terraform_provisioner(runner: Runner, endpoint: str) -> TerraformProvisioner:
    provisioner = TerraformProvisioner(endpoint, runner.targets)
    provisioner.on_controls = runner.set_controls
    return provisioner
