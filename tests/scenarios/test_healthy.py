"""One meaning of healthy: the diagnosis's own headline decides, in the runner as everywhere.

AWS Health is where AWS reports an open service issue in a Region
(https://docs.aws.amazon.com/health/latest/ug/what-is-aws-health.html); the runbook's first
Diagnosis step says such an event means failures "may be AWS-side". A call that succeeds while
KMS has an open event in its Region is therefore not a clean bill of health.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.diagnosis import HEALTHY, headline, is_healthy
from harness.scenarios.catalog import find, load_file
from harness.scenarios.model import merge_patch
from harness.scenarios.runner import Runner

OPEN_EVENT = {
    "region": "us-east-1",
    "service": "KMS",
    "eventTypeCode": "AWS_KMS_OPERATIONAL_ISSUE",
    "statusCode": "open",
    "description": "Increased error rates",
}


def test_headline_of_a_diagnosis_without_primary_is_its_first_finding() -> None:
    # The shape of contract section 4: `primary` is null when nothing is wrong enough.
    warned = {
        "primary": None,
        "findings": [{"code": "KMS_SERVICE_EVENT"}, {"code": "NO_FAULT_FOUND"}],
    }
    assert headline(warned) == "KMS_SERVICE_EVENT"
    assert not is_healthy(warned)
    assert is_healthy({"primary": None, "findings": [{"code": "NO_FAULT_FOUND"}]})
    assert is_healthy({"primary": None, "findings": []})
    assert headline({"primary": "KEY_DISABLED", "findings": []}) == "KEY_DISABLED"


def test_succeeding_call_under_open_health_event_is_not_healthy(
    lab_runner: Runner, tmp_path: Path
) -> None:
    control = find("control-same-account-role")
    data = merge_patch(
        control.raw,
        {
            "id": "control-under-health-event",
            "setup": {"controls": {"health_events": [OPEN_EVENT]}},
        },
    )
    path = tmp_path / "control-under-health-event.yaml"
    path.write_text(yaml.safe_dump(data))
    scenario = load_file(path)

    result = lab_runner.run(scenario)

    assert result.before is not None and result.before.outcome.ok
    assert result.finding == "KMS_SERVICE_EVENT"
    assert result.before.primary == headline(result.before.diagnosis) != HEALTHY
    # The same verdict in the row: the control's expectation (NO_FAULT_FOUND) is not met.
    assert not result.ok
    assert any("KMS_SERVICE_EVENT" in p for p in result.problems)
