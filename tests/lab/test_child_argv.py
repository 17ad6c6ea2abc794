"""The one `lab up` command line both child labs use (`lab up --detach`, the batch run's
child lab) is one the CLI's own `lab up` parses back to the same settings."""

from __future__ import annotations

import sys

import pytest

from harness.cli.lab import up
from harness.lab.child import lab_up_argv


@pytest.mark.parametrize(
    ("room", "state_file"),
    [(False, None), (True, None), (False, "/tmp/kmslab state.json"), (True, "/x/s.json")],
)
def test_lab_up_argv_parses_back(room: bool, state_file: str | None) -> None:
    argv = lab_up_argv("localstack", 4599, room=room, state_file=state_file)
    assert argv[:5] == [sys.executable, "-m", "harness", "lab", "up"]
    ctx = up.make_context("up", argv[5:])
    assert ctx.params["upstream"] == "localstack"
    assert ctx.params["port"] == 4599
    assert ctx.params["room"] is room
    # A room child never prints its secret: its output is a log file.
    assert ctx.params["secret_quiet"] is room
    assert ctx.params["state_file"] == state_file
    assert ctx.params["detach"] is False  # the child is the lab itself
