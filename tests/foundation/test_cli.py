"""The CLI entry point: help, exit codes and one-line errors (contract section 1)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.cli import COMMANDS, main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=120
    )


def test_top_level_help_lists_exit_codes() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "Exit codes" in result.stdout
    assert "2 bad input" in result.stdout


def test_unknown_command_is_one_line_and_exit_2() -> None:
    result = run_cli("frobnicate")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "frobnicate" in lines[0]
    assert "Traceback" not in result.stderr


def test_unknown_option_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-such-option"]) == 2
    assert "no-such-option" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_existing_command_has_help(name: str) -> None:
    result = run_cli(name, "--help")
    if "No such command" in result.stderr:
        pytest.skip(f"`kmslab {name}` is not built yet")
    assert result.returncode == 0, result.stderr
    assert "Usage: kmslab" in result.stdout
