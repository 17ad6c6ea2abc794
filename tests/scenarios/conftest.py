from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.scenarios.runner import Runner


@pytest.fixture(scope="module")
def lab_runner() -> Iterator[Runner]:
    from harness.lab import LabServer

    server = LabServer(upstream="moto", port=0)
    server.start()
    try:
        yield Runner.for_lab(server.endpoint)
    finally:
        server.stop()
