"""The emulator behind the lab: embedded moto, a LocalStack on the host, or any URL.

The lab reaches every upstream the same way, through public AWS APIs over HTTP, as the
owning account's operator (access key id = account id; moto also reads the account from
the `x-moto-account-id` header).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.config
import urllib3

from harness.errors import EndpointError, UsageError
from harness.paths import repo_root

LOCALSTACK_DEFAULT_PORT = 4599
OPERATOR_SECRET = "kmslab-operator"


class Upstream:
    """An AWS-compatible endpoint the lab forwards to."""

    kind = "url"

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._pool: urllib3.HTTPConnectionPool | None = None
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()
        self._session = boto3.Session()

    # lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._connect()
        self.check()

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def _connect(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme != "http" or not parts.hostname:
            raise UsageError(f"upstream URL must be http://host:port, got {self.url!r}")
        self._pool = urllib3.HTTPConnectionPool(
            parts.hostname,
            parts.port or 80,
            maxsize=32,
            timeout=urllib3.Timeout(connect=3.0, read=60.0),
            retries=False,
        )

    def check(self) -> None:
        """Raise EndpointError with one clear line when the upstream does not answer."""
        try:
            self.send("GET", "/", {}, b"", timeout=3.0)
        except EndpointError:
            raise
        except Exception as exc:
            raise EndpointError(f"upstream {self.url} is unreachable: {exc}") from exc

    def describe(self) -> str:
        return f"{self.kind} at {self.url}"

    # HTTP ------------------------------------------------------------------------------
    def send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        timeout: float | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        if self._pool is None:
            self._connect()
        assert self._pool is not None
        try:
            resp = self._pool.urlopen(
                method,
                path,
                body=body or None,
                headers=headers,
                redirect=False,
                timeout=urllib3.Timeout(connect=3.0, read=timeout or 60.0),
                preload_content=True,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise EndpointError(f"upstream {self.url} is unreachable: {exc}") from exc
        return resp.status, dict(resp.headers.items()), resp.data

    # boto3 as an account's operator -----------------------------------------------------
    def client(self, service: str, account: str, region: str = "us-east-1") -> Any:
        key = (service, account, region)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._session.client(
                    service,
                    region_name=region,
                    endpoint_url=self.url,
                    aws_access_key_id=account,
                    aws_secret_access_key=OPERATOR_SECRET,
                    config=botocore.config.Config(
                        retries={"max_attempts": 2, "mode": "standard"},
                        connect_timeout=3,
                        read_timeout=30,
                    ),
                )

                def add_account(request: Any, _account: str = account, **_: Any) -> None:
                    request.headers["x-moto-account-id"] = _account

                client.meta.events.register_first("before-sign.*.*", add_account)
                self._clients[key] = client
        return client

    def reset(self) -> bool:
        """Clear the upstream's state if it offers a way; False when it does not."""
        try:
            status, _, _ = self.send("POST", "/moto-api/reset", {}, b"", timeout=10.0)
        except EndpointError:
            return False
        return status == 200


class EmbeddedMoto(Upstream):
    """moto's server in this process, on a free loopback port."""

    kind = "moto"

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:0")
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        # moto builds ~1,300 sample AMIs (with volumes and snapshots) each time an account's EC2
        # backend is created, i.e. after every reset; no KMS scenario needs them.
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class QuietMotoHandler(MotoRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                return

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=QuietMotoHandler
        )
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="kmslab-moto", daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._connect()

    def stop(self) -> None:
        super().stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def describe(self) -> str:
        return f"embedded moto at {self.url}"


class LocalStack(Upstream):
    """LocalStack on the host: KMSLAB_LOCALSTACK_URL, a running one, or started by the script."""

    kind = "localstack"

    def __init__(self) -> None:
        port = int(os.environ.get("KMSLAB_LOCALSTACK_PORT", LOCALSTACK_DEFAULT_PORT))
        super().__init__(os.environ.get("KMSLAB_LOCALSTACK_URL") or f"http://127.0.0.1:{port}")
        self._started = False

    def healthy(self) -> bool:
        try:
            status, _, body = self.send("GET", "/_localstack/health", {}, b"", timeout=2.0)
        except EndpointError:
            return False
        if status != 200:
            return False
        try:
            services = json.loads(body).get("services", {})
        except ValueError:
            return False
        return services.get("kms") in ("available", "running")

    def start(self) -> None:
        self._connect()
        if self.healthy():
            return
        if os.environ.get("KMSLAB_LOCALSTACK_URL"):
            raise EndpointError(f"LocalStack at {self.url} (KMSLAB_LOCALSTACK_URL) is unreachable")
        script = repo_root() / "scripts" / "localstack.sh"
        if not script.exists():
            raise EndpointError(f"LocalStack is not running at {self.url} and {script} is missing")
        proc = subprocess.run(
            [str(script), "up"], capture_output=True, text=True, timeout=180, check=False
        )
        if proc.returncode != 0 or not self.healthy():
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            last = detail[-1] if detail else f"exit {proc.returncode}"
            raise EndpointError(f"LocalStack could not be started at {self.url}: {last}")
        self._started = True

    def stop(self) -> None:
        super().stop()
        if self._started:
            script = repo_root() / "scripts" / "localstack.sh"
            subprocess.run([str(script), "down"], capture_output=True, timeout=60, check=False)
            self._started = False

    def reset(self) -> bool:
        return False

    def describe(self) -> str:
        return f"LocalStack at {self.url}"


def make_upstream(spec: str) -> Upstream:
    if spec == "moto":
        return EmbeddedMoto()
    if spec == "localstack":
        return LocalStack()
    if spec.startswith("http://") or spec.startswith("https://"):
        return Upstream(spec)
    raise UsageError(f"unknown upstream {spec!r}: use moto, localstack or an http:// URL")


def wait_until(predicate: Any, seconds: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())
