"""`kmslab run` starts its lab in a child process; it must come up healthy, report a bad
upstream in one line, and leave no process behind."""

from __future__ import annotations

import os
import subprocess

import pytest

from harness.errors import EndpointError, UsageError
from harness.lab.child import child_lab
from harness.lab.client import LabClient


def lab_processes() -> int:
    """Labs started by this test process only (other xdist workers start their own)."""
    out = subprocess.run(["ps", "-eo", "ppid=,args="], capture_output=True, text=True).stdout
    me = str(os.getpid())
    return sum(
        line.split(None, 1)[0] == me and "harness lab up" in line for line in out.splitlines()
    )


def test_child_lab_is_healthy_then_gone() -> None:
    before = lab_processes()
    with child_lab("moto") as endpoint:
        assert endpoint.startswith("http://127.0.0.1:")
        assert LabClient(endpoint).health()["status"] == "ok"
        assert lab_processes() == before + 1
    assert lab_processes() == before
    with pytest.raises(EndpointError):
        LabClient(endpoint, timeout=1.0).health()


def test_unreachable_upstream_is_an_endpoint_error() -> None:
    with pytest.raises(EndpointError, match="unreachable"), child_lab("http://127.0.0.1:9"):
        pass


def test_unknown_upstream_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown upstream"), child_lab("bogus"):
        pass
