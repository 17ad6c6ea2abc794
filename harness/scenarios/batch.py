"""Many scenarios against one lab: one at a time natively, or one Terraform apply for all.

`--via terraform` means Terraform: every scenario is built and fixed by Terraform, or the run
refuses before touching the lab, naming each scenario Terraform cannot build or fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from harness.errors import UsageError
from harness.scenarios.model import Scenario
from harness.scenarios.results import RunResult
from harness.scenarios.runner import Runner
from harness.scenarios.terraform import (
    TerraformProvisioner,
    TerraformRun,
    exclusive,
    refusals,
)

OnResult = Callable[[RunResult], None]


def run_batch(
    scenarios: list[Scenario],
    endpoint: str,
    *,
    via: str = "native",
    on_result: OnResult | None = None,
    runner: Runner | None = None,
    workdir: Path | None = None,
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
    refuse_what_terraform_cannot(scenarios)
    # Everything that can share the lab goes in one apply; the rest one by one.
    shared = [s for s in scenarios if not exclusive(s)]
    if shared:
        runner.reset()
        start = time.perf_counter()
        terraform = terraform_provisioner(runner, endpoint, workdir)
        built = terraform.provision(shared)
        share = (time.perf_counter() - start) / len(shared)
        for scenario in shared:
            provisioner, resolved = built[scenario.id]
            result = runner.run_provisioned(
                scenario, provisioner, resolved, time.perf_counter() - share, fixer=terraform.fix
            )
            done(by_terraform(result))
    for scenario in scenarios:
        if scenario in shared:
            continue
        runner.reset()
        start = time.perf_counter()
        terraform = terraform_provisioner(runner, endpoint, workdir)
        provisioner, resolved = terraform.provision([scenario])[scenario.id]
        result = runner.run_provisioned(scenario, provisioner, resolved, start, fixer=terraform.fix)
        done(by_terraform(result))
    return results


def refuse_what_terraform_cannot(scenarios: list[Scenario]) -> None:
    """Terraform builds and fixes every scenario, or none runs: one line names what it cannot."""
    refused = refusals(scenarios)
    if refused:
        raise UsageError(
            f"--via terraform: Terraform cannot build or fix {'; '.join(refused)}; "
            "run these with --via native"
        )


def by_terraform(result: RunResult) -> RunResult:
    """Mark a row built and fixed by Terraform (lab controls and the application's data are
    never Terraform's: the native provisioner applies them in both paths)."""
    result.built_via = "terraform"
    result.fixed_via = "terraform"
    return result


def terraform_provisioner(
    runner: Runner, endpoint: str, workdir: Path | None = None
) -> TerraformProvisioner:
    run = TerraformRun(endpoint, workdir=workdir) if workdir is not None else None
    provisioner = TerraformProvisioner(endpoint, runner.targets, run)
    provisioner.on_controls = runner.set_controls
    return provisioner
