"""`kmslab run --format junit|markdown` and `kmslab run --diagnoser` through the CLI, against a
lab: one passing scenario and one whose expectation is deliberately wrong (key-state.html: a
disabled key fails with DisabledException, which is KEY_DISABLED, not KEY_PENDING_DELETION)."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from harness.cli import main

from .catalog_records import scenario

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def wrong(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = scenario("key-disabled")
    data["id"] = "key-disabled-wrong-expectation"
    data["expected"]["finding"] = "KEY_PENDING_DELETION"
    path = tmp_path_factory.mktemp("wrong") / "key-disabled-wrong-expectation.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_junit_has_one_testcase_per_scenario_and_problems_as_failures(
    lab_endpoint: str, wrong: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["run", "key-disabled", str(wrong), "--endpoint-url", lab_endpoint, "--format", "junit"]
    )
    out = capsys.readouterr().out
    assert code == 1  # one scenario is not ok
    root = ET.fromstring(out)
    (suite,) = root.iter("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {"key-disabled", "key-disabled-wrong-expectation"}
    assert cases["key-disabled"].find("failure") is None
    failure = cases["key-disabled-wrong-expectation"].find("failure")
    assert failure is not None
    assert "primary finding KEY_DISABLED, expected KEY_PENDING_DELETION" in (failure.text or "")
    assert float(suite.get("time") or 0) > 0


def test_markdown_summary(
    lab_endpoint: str, wrong: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["run", "key-disabled", str(wrong), "--endpoint-url", lab_endpoint, "--format", "markdown"]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "**1/2 scenarios ok**" in out
    rows = [line for line in out.splitlines() if line.startswith("| key-disabled")]
    assert len(rows) == 2
    assert "(expected KEY_PENDING_DELETION)" in rows[1] and "DisabledException" in rows[1]
    assert "- `key-disabled-wrong-expectation`: primary finding KEY_DISABLED" in out


def test_run_with_a_diagnoser_scores_it(
    lab_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    naive = f"{sys.executable} -I -S {HERE / 'naive_diagnoser.py'} {{bundle}}"
    argv = ["run", "key-disabled", "iam-no-allow", "--endpoint-url", lab_endpoint]
    code = main([*argv, "--diagnoser", naive, "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0
    card = json.loads(out)
    # The naive guess is right for the disabled key and wrong for the missing IAM allow.
    assert (card["total"], card["correct"]) == (2, 1)
    assert card["by_runbook_step"]["5"]["misses"][0]["id"] == "iam-no-allow"
    assert main([*argv, "--diagnoser", naive]) == 0
    assert "score: 1/2" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--diagnoser", "no-such-cmd-xyz"], "command not found"),
        (["--code-map", "m.yaml"], "--code-map needs --diagnoser"),
        (["--diagnoser", "true", "--format", "junit"], "scorecard as text or json"),
    ],
)
def test_diagnoser_bad_input(
    extra: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text("a: KEY_DISABLED\n")
    assert main(["run", "key-disabled", "--endpoint-url", "http://127.0.0.1:9", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
