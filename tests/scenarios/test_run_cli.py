"""`kmslab run` exit status (contract section 1: 0 did its job, 1 anything unexpected, 2 usage)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from harness.cli import cli, main
from harness.scenarios.catalog import find
from harness.scenarios.runner import Runner


def test_all_ok_exits_0(lab_runner: Runner) -> None:
    result = CliRunner().invoke(
        cli, ["run", "key-disabled", "--endpoint-url", lab_runner.endpoint, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["ok"] is True


def test_a_scenario_not_ok_exits_1(lab_runner: Runner, tmp_path: Path) -> None:
    data = dict(find("key-disabled").raw)
    # key-state.html: a disabled key fails with DisabledException, so this expectation is wrong
    data["id"] = "key-disabled-wrong-expectation"
    data["expected"] = {**data["expected"], "finding": "KEY_PENDING_DELETION"}
    path = tmp_path / "wrong.yaml"
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(cli, ["run", str(path), "--endpoint-url", lab_runner.endpoint])
    assert result.exit_code == 1, result.output
    assert "0/1 scenarios ok" in result.output


def test_no_scenario_is_a_usage_error() -> None:
    assert main(["run"]) == 2


def test_main_returns_1_when_not_ok(lab_runner: Runner, tmp_path: Path) -> None:
    data = dict(find("key-disabled").raw)
    data["id"] = "key-disabled-wrong-expectation"
    data["expected"] = {**data["expected"], "finding": "KEY_PENDING_DELETION"}
    path = tmp_path / "wrong.yaml"
    path.write_text(yaml.safe_dump(data))
    argv = ["run", str(path), "--endpoint-url", lab_runner.endpoint, "--format", "json"]
    assert main(argv) == 1
