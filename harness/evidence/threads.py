"""Daemon worker threads for collectors and their fan-out.

Not concurrent.futures.ThreadPoolExecutor: its workers are joined at interpreter exit, so a
call still waiting on a slow or throttled endpoint after the collection's deadline would
hold the command open. Daemon threads let `kmslab collect` end at its deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

R = TypeVar("R")


class DaemonPool:
    def __init__(self, workers: int, name: str) -> None:
        self._slots = threading.BoundedSemaphore(workers)
        self._name = name
        self._count = 0
        self._closed = threading.Event()

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        future: Future[R] = Future()
        self._count += 1

        def run() -> None:
            with self._slots:
                if self._closed.is_set() or not future.set_running_or_notify_cancel():
                    return
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:
                    future.set_exception(exc)

        threading.Thread(target=run, name=f"{self._name}-{self._count}", daemon=True).start()
        return future

    def close(self) -> None:
        """Work not yet started is dropped; work in flight finishes in the background."""
        self._closed.set()
