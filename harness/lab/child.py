"""A lab in a child process, for a batch run from the command line.

The investigation's concurrent calls and the lab that answers them then use both cores
instead of sharing one interpreter lock (see `make bench`, catalog section).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from harness.errors import EndpointError, UsageError
from harness.lab.client import LabClient


def lab_up_argv(
    upstream: str, port: int, *, room: bool = False, state_file: str | None = None
) -> list[str]:
    """The command that runs `kmslab lab up` in a child process with this interpreter (the
    detached lab of `lab up --detach` and the batch run's child lab). A room child never
    prints its secret (`--secret-quiet`): its output goes to a log file."""
    argv = [sys.executable, "-m", "harness", "lab", "up", "--upstream", upstream]
    argv += ["--port", str(port)]
    if room:
        argv += ["--room", "--secret-quiet"]
    if state_file is not None:
        argv += ["--state", state_file]
    return argv


@contextmanager
def child_lab(upstream: str, timeout: float = 120.0) -> Iterator[str]:
    with socket.socket() as probe:  # a free loopback port for the child to bind
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            lab_up_argv(upstream, port),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            wait_healthy(proc, log, f"http://127.0.0.1:{port}", timeout)
            yield f"http://127.0.0.1:{port}"
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def wait_healthy(
    proc: subprocess.Popen[bytes], log: IO[bytes], endpoint: str, timeout: float
) -> None:
    client = LabClient(endpoint, timeout=2.0)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            log.seek(0)
            lines = log.read().decode(errors="replace").strip().splitlines()
            last = (lines[-1] if lines else "").removeprefix("kmslab: error: ")
            error = EndpointError if proc.returncode == 3 else UsageError
            raise error(last or f"the lab exited with status {proc.returncode}")
        try:
            client.health()
            return
        except EndpointError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
