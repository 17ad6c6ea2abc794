"""README's table of every command's flags matches what each command's --help offers.

The commands come from the click command tree (so a command or flag added anywhere is checked
without editing this test); the flags come from each command's --help text, as a user sees it."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from harness.cli import cli

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(kmslab[^`]*)` \| (.*) \|$")
FLAG = re.compile(r"--[a-z][a-z0-9-]*")
# A flag's own line in click's help: two spaces, maybe a short name, then the long name.
HELP_FLAG = re.compile(r"^  (?:-[a-zA-Z], )?(--[a-z][a-z0-9-]*)")
ALWAYS = {"--help"}


def commands(cmd: click.Command, path: list[str]) -> list[list[str]]:
    out = [path] if path else []
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            assert sub is not None
            out += commands(sub, [*path, name])
    return out


def help_flags(path: list[str]) -> set[str]:
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = result.output
    options = text.split("\nOptions:\n", 1)[1] if "\nOptions:\n" in text else ""
    options = options.split("\nCommands:\n", 1)[0]
    return {m.group(1) for line in options.splitlines() if (m := HELP_FLAG.match(line))} - ALWAYS


def readme_rows() -> dict[str, set[str]]:
    section = README.read_text().split("### Flags of every command", 1)[1]
    rows: dict[str, set[str]] = {}
    for line in section.splitlines():
        m = ROW.match(line)
        if m:
            # "kmslab run IDS" -> "kmslab run": upper-case words are arguments
            name = " ".join(w for w in m.group(1).split() if not w.isupper())
            rows[name] = set(FLAG.findall(m.group(2)))
        elif rows and not line.startswith("|"):
            break
    return rows


PATHS = commands(cli, [])


def test_the_tree_has_every_contract_command() -> None:
    names = {" ".join(p) for p in PATHS}
    assert {
        "run",
        "reproduce",
        "collect",
        "diagnose",
        "evaluate",
        "lab up",
        "scenarios list",
    } <= names


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) for p in PATHS])
def test_readme_lists_exactly_the_flags_of_the_commands_help(path: list[str]) -> None:
    rows = readme_rows()
    name = " ".join(["kmslab", *path])
    flags = help_flags(path)
    if not flags and name not in rows:
        return  # a group without options of its own needs no row
    assert name in rows, f"README's flags table has no row for `{name}` (flags: {sorted(flags)})"
    missing = flags - rows[name]
    assert not missing, f"README's row for `{name}` lacks {sorted(missing)}"
    stale = rows[name] - flags
    assert not stale, f"README's row for `{name}` lists {sorted(stale)}, which --help does not"


def test_no_help_text_points_into_source_files() -> None:
    for path in [[], *PATHS]:
        text = CliRunner().invoke(cli, [*path, "--help"], terminal_width=200).output
        assert not re.search(r"harness/\S+\.py|\.py\b", text), (path, text)
