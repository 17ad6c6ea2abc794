from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def lab_endpoint() -> Iterator[str]:
    """An embedded lab on a free loopback port, shared by a module's tests."""
    from harness.lab import LabServer

    server = LabServer(upstream="moto", port=0)
    server.start()
    try:
        yield server.endpoint
    finally:
        server.stop()
