"""The CLI entry point: help, exit codes and one-line errors (contract section 1)."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from harness.cli import COMMANDS, cli, main


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


CONTRACT_COMMANDS = [
    ("lab", "up"),
    ("lab", "status"),
    ("lab", "down"),
    ("scenarios", "list"),
    ("scenarios", "from-bundle"),
    ("run",),
    ("reproduce",),
    ("collect",),
    ("diagnose",),
    ("evaluate",),
    ("workshop", "list"),
    ("workshop", "start"),
    ("workshop", "hint"),
    ("workshop", "check"),
    ("workshop", "solution"),
    ("workshop", "reset"),
    ("workshop", "status"),
]


def walk(command: click.Command, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    paths = [path]
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            paths += walk(sub, (*path, name))
    return paths


def test_every_contract_command_exists() -> None:
    present = set(walk(cli, ()))
    missing = [" ".join(p) for p in CONTRACT_COMMANDS if p not in present]
    assert not missing, f"contract commands missing: {missing}"
    assert set(COMMANDS) <= {p[0] for p in present if p}


@pytest.mark.parametrize("path", [p for p in walk(cli, ()) if p], ids=" ".join)
def test_every_command_has_help_text(path: tuple[str, ...]) -> None:
    result = run_cli(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert f"Usage: kmslab {' '.join(path)}" in result.stdout
    # A described command: its help has a sentence beyond the usage line and options.
    body = result.stdout.split("\n\n", 2)
    assert len(body) >= 2 and body[1].strip() and not body[1].strip().startswith("Options:")


def test_a_command_exit_code_is_kept() -> None:
    @cli.command("exit-seven", hidden=True)
    @click.pass_context
    def exit_seven(ctx: click.Context) -> None:
        ctx.exit(7)

    try:
        assert main(["exit-seven"]) == 7
    finally:
        cli.commands.pop("exit-seven", None)
