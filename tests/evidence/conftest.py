"""Fixtures: a moto server on 127.0.0.1 (every test starts from empty state) and helpers."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from harness.aws.clients import Target
from harness.evidence import CollectOptions, InvestigationRequest, run_collection
from harness.evidence.collect import CollectionResult

from .lab_world import LabWorld
from .support import Collect


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto(moto_server: str) -> str:
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST", data=b"")
    urllib.request.urlopen(request, timeout=5).read()
    return moto_server


@pytest.fixture
def target(moto: str, monkeypatch: pytest.MonkeyPatch) -> Target:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    return Target(
        endpoint_url=moto, region="us-east-1", access_key_id="AKIAOPERATOR000000001",
        secret_access_key="operator-secret-not-real",
    )  # fmt: skip


@pytest.fixture
def run(target: Target) -> Collect:
    """Collect with one try per call: moto answers unimplemented APIs with retryable 500s."""

    def go(
        req: InvestigationRequest, key_target: Target | None = None, **options: Any
    ) -> CollectionResult:
        options.setdefault("max_attempts", 1)
        return run_collection(req, target, key_target, options=CollectOptions(**options))

    return go


@pytest.fixture(scope="session")
def lab_endpoint() -> Iterator[str]:
    lab = pytest.importorskip("harness.lab", reason="the lab (harness/lab) is not built yet")
    server = lab.LabServer(upstream="moto", port=0)
    server.start()
    yield server.endpoint
    server.stop()


@pytest.fixture
def lab(lab_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> LabWorld:
    from harness.lab import LabClient

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    LabClient(lab_endpoint).reset()
    return LabWorld(lab_endpoint)


@pytest.fixture
def lab_run(lab: LabWorld) -> Collect:
    """Collect against the lab with the app account's operator credentials by default."""

    def go(
        req: InvestigationRequest,
        target: Target | None = None,
        key_target: Target | None = None,
        **options: Any,
    ) -> CollectionResult:
        options.setdefault("max_attempts", 2)
        return run_collection(
            req, target or lab.op(), key_target, options=CollectOptions(**options)
        )

    return go
