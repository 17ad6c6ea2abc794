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
    """moto's WSGI app called in this process: no port, so nothing can reach it around the lab.

    moto accepts writes for any account without authorization; a listening port would let
    anyone on the machine plant keys or policies the lab then serves (issue 12). Requests go
    from the gateway (`send`) and from the lab's boto3 clients (a `before-send` hook) straight
    into the app.
    """

    kind = "moto"
    # Never resolved: every request is answered in-process before botocore would connect.
    # A host without a dot: moto then reads S3 bucket names from the path, as from 127.0.0.1.
    URL = "http://moto-in-process"

    def __init__(self) -> None:
        super().__init__(self.URL)
        self._app: Any = None

    def start(self) -> None:
        # moto builds ~1,300 sample AMIs (with volumes and snapshots) each time an account's EC2
        # backend is created, i.e. after every reset; no KMS scenario needs them.
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        class Dispatcher(DomainDispatcherApplication):  # type: ignore[misc]
            # moto lists its package directory (an isdir per service) on every request to
            # find the backend for a host; the answer for a host never changes.
            def __init__(self, create_app: Any) -> None:
                super().__init__(create_app)
                self.backends: dict[str | None, Any] = {}

            def get_backend_for_host(self, host: str | None) -> Any:
                if host not in self.backends:
                    self.backends[host] = super().get_backend_for_host(host)
                return self.backends[host]

        self._app = Dispatcher(create_backend_app)

    def stop(self) -> None:
        self._app = None

    def send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        timeout: float | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        if self._app is None:
            raise EndpointError("embedded moto is not started")
        path, _, query = path.partition("?")
        builder = EnvironBuilder(
            path=path,
            base_url=self.URL,
            query_string=query,
            method=method,
            headers=list(headers.items()),
            data=body or b"",
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        app_iter, status, response_headers = run_wsgi_app(self._app, environ, buffered=True)
        try:
            data = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        return int(status.split(" ", 1)[0]), dict(response_headers.items()), data

    def client(self, service: str, account: str, region: str = "us-east-1") -> Any:
        key = (service, account, region)
        if key in self._clients:
            return self._clients[key]
        client = super().client(service, account, region)
        client.meta.events.register("before-send", self._answer)
        return client

    def _answer(self, request: Any, **_: Any) -> Any:
        """botocore's before-send hook: answer from moto in-process (a response stops the send)."""
        import botocore.awsrequest

        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        elif isinstance(body, str):
            body = body.encode()
        sent = {
            k: v.decode("latin-1") if isinstance(v, bytes) else str(v)
            for k, v in request.headers.items()
        }
        status, headers, data = self.send(request.method, path, sent, bytes(body))
        return botocore.awsrequest.AWSResponse(request.url, status, headers, _Raw(data))

    def describe(self) -> str:
        return "embedded moto (in-process, no port)"


class _Raw:
    """The raw body botocore reads from an AWSResponse."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data

    def read(self, *_: Any) -> bytes:
        data, self._data = self._data, b""
        return data


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
        # Nothing answers at the configured port: start one on a loopback port chosen now,
        # not a well-known one. LocalStack itself accepts unauthenticated writes on its port
        # (residual risk, README "The lab endpoint"); only the lab is told where it listens.
        port = _free_loopback_port()
        self.url = f"http://127.0.0.1:{port}"
        self._connect()
        proc = subprocess.run(
            [str(script), "up"],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            env={**os.environ, "KMSLAB_LOCALSTACK_PORT": str(port)},
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
        return "LocalStack (loopback)"


def _free_loopback_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
