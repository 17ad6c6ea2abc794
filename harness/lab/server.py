"""LabServer: the lab endpoint on 127.0.0.1 in a background thread of this process."""

from __future__ import annotations

import errno
import logging
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from harness.errors import UsageError
from harness.lab import state
from harness.lab.decisions import DecisionLog, from_environment
from harness.lab.gateway import LabGateway
from harness.lab.operator import new_room_secret, remove_room_secret, write_room_secret
from harness.lab.upstream import Upstream, make_upstream

LOOPBACK = "127.0.0.1"


class QuietHandler(WSGIRequestHandler):
    """Keep-alive connections (boto3 reuses them) and no access log on stderr."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            logging.getLogger("kmslab.lab").debug(message, *args)


class LabServer:
    """The lab endpoint. `upstream` is "moto" (embedded), "localstack" or an http:// URL."""

    def __init__(
        self,
        upstream: str | Upstream = "moto",
        port: int = 0,
        decision_log: str | Path | None = None,
        room: bool = False,
        state_file: str | None = None,
    ) -> None:
        self.upstream = make_upstream(upstream) if isinstance(upstream, str) else upstream
        self.port = port
        # Opt-in record of every authorization decision (harness/lab/decisions.py).
        self.decision_log = DecisionLog(decision_log) if decision_log else from_environment()
        # Room mode: operators need this secret (generated per start; see harness.lab.operator).
        self.room_secret: str | None = new_room_secret() if room else None
        self.room_secret_file: Path | None = None
        # `lab up --state FILE`: loaded at start when it exists, written again at stop.
        self.state_file = state_file
        self.lab: LabGateway | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("LabServer is not started")
        return f"http://{LOOPBACK}:{self._server.server_port}"

    def start(self) -> LabServer:
        saved = None
        if self.state_file and Path(self.state_file).exists():
            saved = state.read(self.state_file)  # bad input before anything starts
        elif self.state_file and not Path(self.state_file).parent.is_dir():
            # Found now rather than when the lab stops and has state to lose.
            raise UsageError(
                f"cannot keep state in {self.state_file}: "
                f"directory {Path(self.state_file).parent} does not exist"
            )
        self.upstream.start()
        lab = LabGateway(self.upstream, room_secret=self.room_secret)
        if saved is not None:
            try:
                state.restore(lab, saved, self.state_file or "state")
            except BaseException:
                self.upstream.stop()
                raise
        lab.authz.decision_log = self.decision_log
        try:
            server = make_server(
                LOOPBACK, self.port, lab, threaded=True, request_handler=QuietHandler
            )
        except OSError as exc:
            self.upstream.stop()
            if exc.errno == errno.EADDRINUSE or "in use" in str(exc).lower():
                raise UsageError(
                    f"port {self.port} on {LOOPBACK} is already in use (choose --port)"
                ) from exc
            raise UsageError(f"cannot listen on {LOOPBACK}:{self.port}: {exc}") from exc
        server.daemon_threads = True  # type: ignore[attr-defined]
        self._server = server
        self.lab = lab
        lab.endpoint = self.endpoint
        if self.room_secret is not None:
            self.room_secret_file = write_room_secret(self.endpoint, self.room_secret)
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.1,), name="kmslab-lab", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Block until stop() (or Ctrl-C in the caller)."""
        if self._thread is not None:
            while self._thread.is_alive():
                self._thread.join(0.2)

    def save(self, path: str) -> None:
        """Write the lab's state to `path` atomically."""
        if self.lab is None:
            raise RuntimeError("LabServer is not started")
        state.write(path, state.snapshot(self.lab))

    def stop(self) -> None:
        try:
            if self._server is not None and self.lab is not None and self.state_file:
                self._server.shutdown()  # no request changes the state while it is written
                self.save(self.state_file)
        finally:
            self._stop()

    def _stop(self) -> None:
        if self._server is not None and self.room_secret is not None:
            remove_room_secret(self.endpoint, self.room_secret)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self.upstream.stop()

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
