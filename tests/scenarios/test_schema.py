"""Scenario files are validated data: errors name the file and the JSON path of the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.errors import UsageError
from harness.scenarios.catalog import find, load_file
from harness.scenarios.model import merge_patch

GOOD = {
    "id": "tiny",
    "title": "A tiny scenario",
    "runbook_step": 2,
    "story": "The app cannot decrypt since this morning.",
    "sources": ["https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html"],
    "setup": {
        "keys": {"data": {"state": "Disabled"}},
        "principals": {"app": {"type": "role"}},
        "data": {"blob": {"key": "data"}},
    },
    "call": {"principal": "app", "operation": "Decrypt", "ciphertext": {"data": "blob"}},
    "expected": {
        "error": {"code": "DisabledException", "message": "${key.data.arn} is disabled\\."},
        "finding": "KEY_DISABLED",
    },
    "fix": {"summary": "enable", "setup": {"keys": {"data": {"state": "Enabled"}}}},
}


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_valid_file_loads_with_defaults(tmp_path: Path) -> None:
    scenario = load_file(write(tmp_path, GOOD))
    key = scenario.setup["keys"]["data"]
    assert (key["account"], key["region"], key["spec"]) == ("app", "us-east-1", "SYMMETRIC_DEFAULT")
    assert scenario.setup["accounts"] == {"app": "111111111111"}
    assert scenario.call["region"] == "us-east-1"


def test_schema_error_names_file_and_json_path(tmp_path: Path) -> None:
    bad = merge_patch(GOOD, {"setup": {"keys": {"data": {"state": "Disabld"}}}})
    path = write(tmp_path, bad)
    with pytest.raises(UsageError) as err:
        load_file(path)
    assert str(path) in str(err.value)
    assert "$.setup.keys.data.state" in str(err.value)


def test_unknown_reference_is_rejected(tmp_path: Path) -> None:
    bad = merge_patch(GOOD, {"call": {"principal": "ghost"}})
    with pytest.raises(UsageError, match=r"\$\.call\.principal: unknown principal 'ghost'"):
        load_file(write(tmp_path, bad))


def test_key_policy_cannot_name_a_key_arn(tmp_path: Path) -> None:
    policy = {
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "${key.data.arn}"}
        ]
    }
    bad = merge_patch(GOOD, {"setup": {"keys": {"data": {"policy": policy}}}})
    with pytest.raises(UsageError, match="cannot refer to a key ARN"):
        load_file(write(tmp_path, bad))


def test_control_must_expect_no_error(tmp_path: Path) -> None:
    bad = merge_patch(GOOD, {"control": True})
    with pytest.raises(UsageError, match="a control expects no error and NO_FAULT_FOUND"):
        load_file(write(tmp_path, bad))


def test_not_yaml_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("id: [unclosed")
    with pytest.raises(UsageError) as err:
        load_file(path)
    assert "not valid YAML" in str(err.value) and "\n" not in str(err.value)


def test_unknown_id_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown scenario id 'no-such-scenario'"):
        find("no-such-scenario")


def test_fix_is_a_merge_patch_and_expects_success(tmp_path: Path) -> None:
    scenario = load_file(write(tmp_path, GOOD))
    fixed = scenario.fixed()
    assert fixed.setup["keys"]["data"]["state"] == "Enabled"
    assert fixed.expected_error is None and fixed.expected_finding == "NO_FAULT_FOUND"
    assert scenario.setup["keys"]["data"]["state"] == "Disabled"


def test_merge_patch_follows_rfc7396() -> None:
    # RFC 7396 section 3 example.
    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    patch = {"a": "z", "c": {"f": None}}
    assert merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}}
