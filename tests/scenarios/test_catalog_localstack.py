"""The whole catalog, native path, on one lab whose upstream is LocalStack (make test starts it).

Each scenario must be ok exactly as on moto: the lab answers KMS itself and forwards IAM, EC2
and Logs to LocalStack, so a difference here is a lab-on-LocalStack behaviour to report.
Expectations are the scenario files' (each cites the AWS page its error comes from).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from harness.scenarios.catalog import load_catalog
from harness.scenarios.model import Scenario
from harness.scenarios.runner import Runner

pytestmark = [pytest.mark.localstack, pytest.mark.slow]

URL = os.environ.get("KMSLAB_LOCALSTACK_URL")

# Scenarios that fail on LocalStack only because of the lab's LocalStack upstream: id -> the
# missing behaviour (strict xfail, so a fixed gap shows up as XPASS).
LOCALSTACK_GAPS: dict[str, str] = {}


@pytest.fixture(scope="module")
def localstack_runner() -> Iterator[Runner]:
    if not URL:
        pytest.skip("KMSLAB_LOCALSTACK_URL is not set (make test starts LocalStack and sets it)")
    from harness.lab import LabServer

    server = LabServer(upstream=URL, port=0)
    server.start()
    try:
        # A lab reset does not clear LocalStack's IAM/EC2 state: names are unique per scenario.
        yield Runner.for_lab(server.endpoint, unique_names=True)
    finally:
        server.stop()


def params() -> list[object]:
    out: list[object] = []
    for scenario in load_catalog():
        marks = []
        gap = scenario.lab_gap or LOCALSTACK_GAPS.get(scenario.id)
        if gap:
            marks.append(pytest.mark.xfail(reason=f"lab gap: {gap}", strict=True))
        out.append(pytest.param(scenario, id=scenario.id, marks=marks))
    return out


@pytest.mark.parametrize("scenario", params())
def test_scenario_ok_on_localstack(localstack_runner: Runner, scenario: Scenario) -> None:
    result = localstack_runner.run(scenario)
    assert result.ok, "; ".join(result.problems)
