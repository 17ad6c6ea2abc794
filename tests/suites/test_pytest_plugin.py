"""The pytest plugin (entry point `pytest11: kmslab`) as a user's test suite uses it, run with
pytester. Expected outcomes come from AWS's key-state table (kms/latest/developerguide/
key-state.html): Decrypt with a disabled key fails with DisabledException."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml

from .catalog_records import RECORDS, scenario

pytest_plugins = ["pytester"]

USER_TESTS = """
import boto3
import pytest


@pytest.mark.kmslab_scenario("key-disabled")
def test_disabled_key_is_diagnosed_and_fixed(kmslab_scenario):
    outcome = kmslab_scenario.call()
    assert not outcome.ok and outcome.code == "DisabledException"
    assert kmslab_scenario.diagnose()["primary"] == "KEY_DISABLED"
    kmslab_scenario.fix()
    assert kmslab_scenario.call().ok
    assert kmslab_scenario.diagnose()["primary"] in (None, "NO_FAULT_FOUND")


@pytest.mark.kmslab_scenario("key-disabled")
def test_names_and_credentials_work_with_my_own_boto3(kmslab_lab, kmslab_scenario):
    key_arn = kmslab_scenario.names["key"]["data"]["arn"]
    assert key_arn.startswith("arn:aws:kms:us-east-1:111111111111:key/")
    kms = boto3.client(
        "kms", endpoint_url=kmslab_lab.endpoint, region_name="us-east-1",
        **kmslab_scenario.credentials,
    )
    with pytest.raises(kms.exceptions.DisabledException):
        kms.encrypt(KeyId=key_arn, Plaintext=b"x")
    env = kmslab_scenario.env()
    assert env["AWS_ENDPOINT_URL"] == kmslab_lab.endpoint
    assert env["AWS_ACCESS_KEY_ID"] == kmslab_scenario.credentials["aws_access_key_id"]


@pytest.mark.parametrize("kmslab_scenario", ["key-disabled", "my-scenario.yaml"], indirect=True)
def test_by_id_or_by_file(kmslab_scenario):
    assert kmslab_scenario.call().code == "DisabledException"
"""


@pytest.fixture
def user_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_user=USER_TESTS)
    data = scenario("key-disabled")
    data["id"] = "my-scenario"
    (pytester.path / "my-scenario.yaml").write_text(yaml.safe_dump(data))
    return pytester


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    found = {e.name: e.value for e in entry_points(group="pytest11")}
    assert found.get("kmslab") == "harness.pytest_plugin"


def test_a_users_tests_against_a_running_lab(
    user_project: pytest.Pytester, lab_endpoint: str
) -> None:
    result = user_project.runpytest("--kmslab-endpoint-url", lab_endpoint, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_the_plugin_starts_and_stops_its_own_lab(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_own="""
import pytest
from harness.lab import LabClient

ENDPOINTS = []

def test_the_lab_is_loopback_and_moto(kmslab_lab):
    assert kmslab_lab.endpoint.startswith("http://127.0.0.1:")
    assert kmslab_lab.upstream == "moto"
    assert LabClient(kmslab_lab.endpoint).health()["upstream"]
    ENDPOINTS.append(kmslab_lab.endpoint)

@pytest.mark.kmslab_scenario("iam-no-allow")
def test_second_test_shares_the_session_lab(kmslab_lab, kmslab_scenario):
    assert ENDPOINTS == [kmslab_lab.endpoint]
    assert kmslab_scenario.call().code == "AccessDeniedException"
    assert kmslab_scenario.diagnose()["primary"] == "IAM_NO_ALLOW"
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_a_wrong_expectation_in_a_user_test_fails(
    pytester: pytest.Pytester, lab_endpoint: str
) -> None:
    pytester.makepyfile(
        test_wrong="""
import pytest

@pytest.mark.kmslab_scenario("key-disabled")
def test_wrong(kmslab_scenario):
    assert kmslab_scenario.diagnose()["primary"] == "KEY_PENDING_DELETION"
"""
    )
    result = pytester.runpytest("--kmslab-endpoint-url", lab_endpoint, "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*KEY_DISABLED*KEY_PENDING_DELETION*"])


def test_missing_marker_and_unknown_scenario_are_reported(
    pytester: pytest.Pytester, lab_endpoint: str
) -> None:
    pytester.makepyfile(
        test_bad="""
import pytest

def test_no_marker(kmslab_scenario):
    pass

@pytest.mark.kmslab_scenario("no-such-scenario")
def test_unknown(kmslab_scenario):
    pass
"""
    )
    result = pytester.runpytest("--kmslab-endpoint-url", lab_endpoint, "-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*kmslab_scenario needs @pytest.mark.kmslab_scenario*"])
    result.stdout.fnmatch_lines(["*unknown scenario id 'no-such-scenario'*"])


def test_the_diagnose_helper_reads_a_bundle_file(pytester: pytest.Pytester) -> None:
    record = json.loads((RECORDS / "iam-no-allow.json").read_text())
    (pytester.path / "incident.json").write_text(json.dumps(record["bundle"]))
    pytester.makepyfile(
        test_bundle="""
def test_incident(kmslab_diagnose):
    report = kmslab_diagnose("incident.json")
    assert report["primary"] == "IAM_NO_ALLOW"
    assert report["decision"] == "ImplicitDeny"
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["*kmslab_scenario(ref)*"])
    assert Path(str(pytester.path)).is_dir()


def test_a_lab_url_that_does_not_answer_is_one_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_down="def test_x(kmslab_lab):\n    pass\n")
    result = pytester.runpytest(
        "--kmslab-endpoint-url", "http://127.0.0.1:9", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*kmslab: no lab at --kmslab-endpoint-url http://127.0.0.1:9*"])
    assert "Traceback" not in result.stdout.str()
