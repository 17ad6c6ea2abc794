"""Lab state across a restart, for the whole catalog (issue 12, "State that survives").

For every catalog scenario: build it natively, make its failing call, save the lab's state,
stop the lab, start a new lab from the state file on the same port, and then
- the credentials issued before the restart still work and the same call fails with the same
  error code (the scenario's documented error: `error_matches`), and
- the scenario's fix, applied to the restored lab, makes the call succeed.

The expectations are the catalog's (each scenario's expected error comes from AWS
documentation); nothing here is copied from what the lab answered.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from harness.lab import LabClient, LabServer
from harness.lab import state as lab_state
from harness.scenarios.call import issue_credentials, make_call
from harness.scenarios.catalog import load_catalog
from harness.scenarios.results import error_matches
from harness.scenarios.runner import Runner


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_every_catalog_scenario_fails_and_fixes_the_same_after_a_restart(tmp_path: Path) -> None:
    port = free_port()
    path = tmp_path / "lab-state.json"
    server = LabServer(upstream="moto", port=port).start()
    runner = Runner.for_lab(server.endpoint)
    problems: list[str] = []
    scenarios = load_catalog()
    try:
        for scenario in scenarios:
            provisioner, resolved = runner.provision(scenario)
            caller = issue_credentials(provisioner, scenario.call, scenario.setup, resolved)
            before = make_call(caller, scenario.call, resolved)
            runner.note_managed_key(provisioner, scenario, resolved)  # ${managed.*} in messages
            wrong = error_matches(scenario, before, resolved)
            if wrong:
                problems.append(f"{scenario.id}: before the restart: {wrong}")
                continue
            lab_state.write(path, LabClient(server.endpoint).state())
            server.stop()
            server = LabServer(upstream="moto", port=port, state_file=str(path)).start()

            after = make_call(caller, scenario.call, resolved)  # credentials issued before
            if (after.ok, after.code) != (before.ok, before.code):
                problems.append(
                    f"{scenario.id}: after the restart {after.code or 'success'}, "
                    f"before {before.code or 'success'}"
                )
                continue
            fixed = runner.apply_fix(scenario, provisioner, resolved)
            fixed_caller = issue_credentials(provisioner, fixed.call, fixed.setup, resolved)
            verified = make_call(fixed_caller, fixed.call, resolved)
            if not verified.ok:
                problems.append(
                    f"{scenario.id}: the fix does not verify after the restart: "
                    f"{verified.code}: {verified.message}"
                )
    finally:
        server.stop()
    assert len(scenarios) >= 60
    assert problems == [], "\n".join(problems)
