"""Scenario authoring: `kmslab scenarios new ID --like EXISTING` and `kmslab scenarios validate
FILE` (YAML, schema, references, Terraform generation, dry build), each problem with its line.

The files are written here by hand, so the line of each mistake is known independently."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.cli import main

from .catalog_records import scenario

# A disabled key (kms/latest/developerguide/key-state.html: Decrypt fails with DisabledException).
GOOD = """\
id: {id}
title: A disabled key refuses Decrypt
runbook_step: 2
story: Someone disabled the key during a clean-up.
sources:
- https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
setup:
  keys:
    data:
      state: Disabled
  principals:
    app:
      type: role
      policies:
      - Version: '2012-10-17'
        Statement:
        - Effect: Allow
          Action: kms:Decrypt
          Resource: ${{key.data.arn}}
  data:
    record:
      key: data
call:
  principal: {principal}
  operation: Decrypt
  key: ${{key.data.arn}}
  ciphertext:
    data: record
expected:
  error:
    code: DisabledException
    message: .*
  finding: {finding}
fix:
  summary: Enable the key.
  setup:
    keys:
      data:
        state: Enabled
"""


def write(tmp: Path, name: str = "my-disabled", **fields: str) -> Path:
    values = {"id": name, "principal": "app", "finding": "KEY_DISABLED", **fields}
    path = tmp / f"{name}.yaml"
    path.write_text(GOOD.format(**values))
    return path


def validate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["scenarios", "validate", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_hand_written_scenario_passes_without_building(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path)
    code, out, _ = validate(capsys, "--no-build", str(path))
    assert code == 0 and "ok (schema, references, terraform)" in out


def test_yaml_errors_have_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: broken\ntitle: x\nsetup:\n  keys: [\n    data\n  principals: {}\n")
    code, _, err = validate(capsys, str(path))
    assert code == 2
    assert f"{path}:6:" in err and "not valid YAML" in err
    assert "Traceback" not in err


def test_schema_errors_point_at_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path)
    path.write_text(path.read_text().replace("runbook_step: 2", "runbook_step: 12"))
    code, _, err = validate(capsys, "--no-build", str(path))
    assert code == 2
    assert f"{path}:3: schema: $.runbook_step:" in err


def test_reference_errors_point_at_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, principal="ap")  # line 24: `principal: ap`
    code, _, err = validate(capsys, "--no-build", str(path))
    assert code == 2
    assert f"{path}:24: references: $.call.principal: unknown principal 'ap'" in err


def test_the_file_name_must_be_the_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path)
    path.rename(tmp_path / "other-name.yaml")
    code, _, err = validate(capsys, "--no-build", str(tmp_path / "other-name.yaml"))
    assert code == 2 and ":1: id: $.id: file name must be the id" in err


def test_the_dry_build_finds_a_wrong_expectation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, finding="KEY_PENDING_DELETION")  # line 33
    code, _, err = validate(capsys, str(path))
    assert code == 2
    assert f"{path}:33: build: $.expected.finding: primary finding KEY_DISABLED" in err


def test_new_scaffolds_from_an_existing_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "billing-key-off.yaml"
    assert (
        main(["scenarios", "new", "billing-key-off", "--like", "key-disabled", "--out", str(out)])
        == 0
    )
    data = yaml.safe_load(out.read_text())
    original = scenario("key-disabled")
    assert data["id"] == "billing-key-off"
    assert data["title"].startswith("TODO") and data["story"].startswith("TODO")
    assert data["setup"] == original["setup"] and data["fix"] == original["fix"]
    capsys.readouterr()
    code, stdout, _ = validate(capsys, "--no-build", str(out))
    assert code == 0, stdout
    # Never overwritten, and the id is checked.
    assert (
        main(["scenarios", "new", "billing-key-off", "--like", "key-disabled", "--out", str(out)])
        == 2
    )
    assert "already exists" in capsys.readouterr().err
    assert (
        main(
            [
                "scenarios",
                "new",
                "Bad_Id",
                "--like",
                "key-disabled",
                "--out",
                str(tmp_path / "b.yaml"),
            ]
        )
        == 2
    )
    assert "lower-case letters" in capsys.readouterr().err
    assert main(["scenarios", "new", "key-disabled", "--like", "key-disabled"]) == 2
    assert "already in the catalog" in capsys.readouterr().err
    assert main(["scenarios", "new", "x-y-z", "--like", "no-such-scenario"]) == 2


def test_the_guides_worked_example_validates_and_is_the_sample_projects_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(__file__).resolve().parents[2]
    guide = (root / "docs" / "scenarios.md").read_text()
    text = guide.split("## A worked example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "reporting-role-missing.yaml"
    path.write_text(text)
    code, _, err = validate(capsys, "--no-build", str(path))
    assert code == 0, err
    sample = root / "examples" / "kms-checks" / "scenarios" / "reporting-role-missing.yaml"
    assert yaml.safe_load(text) == yaml.safe_load(sample.read_text())
    for section in (
        "## Fields",
        "## References",
        "## Fixes",
        "## Hints",
        "## Controls",
        "`unconfirmed`",
    ):
        assert section in guide
