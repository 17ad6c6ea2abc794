"""One lab per upstream for the session, reset before each test.

Tests that take the `lab` fixture run against embedded moto and against LocalStack (started
by scripts/localstack.sh, or at KMSLAB_LOCALSTACK_URL); LocalStack runs are skipped, with the
reason, only when LocalStack cannot be started on this machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.errors import KmslabError
from harness.lab import LabClient, LabServer
from lab.labkit import LabKit

_servers: dict[str, LabServer] = {}
_failures: dict[str, str] = {}


def _server(upstream: str) -> LabServer:
    if upstream in _failures:
        pytest.skip(_failures[upstream])
    if upstream not in _servers:
        server = LabServer(upstream=upstream, port=0)
        try:
            server.start()
        except KmslabError as exc:
            _failures[upstream] = f"{upstream} upstream could not be started: {exc}"
            pytest.skip(_failures[upstream])
        _servers[upstream] = server
    return _servers[upstream]


@pytest.fixture(scope="session", autouse=True)
def _stop_servers() -> Iterator[None]:
    yield
    for server in _servers.values():
        server.stop()
    _servers.clear()


@pytest.fixture(params=["moto", pytest.param("localstack", marks=pytest.mark.localstack)])
def lab(request: pytest.FixtureRequest) -> LabKit:
    server = _server(request.param)
    LabClient(server.endpoint).reset()
    return LabKit(server, request.param)


@pytest.fixture
def moto_lab() -> LabKit:
    """For tests about the lab itself rather than AWS behaviour (one upstream is enough)."""
    server = _server("moto")
    LabClient(server.endpoint).reset()
    return LabKit(server, "moto")
