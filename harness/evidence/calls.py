"""Guarded clients, one per (credentials, region, service), and the record of every call.

A call that fails is recorded with its error and returns None: AccessDenied, throttling
after botocore's adaptive retries, or an API the endpoint does not implement never stop
the other collectors. Identical calls made by two collectors are sent once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import botocore.config
import botocore.exceptions
import botocore.session
from botocore import xform_name

from harness.aws import Target, is_connection_error
from harness.errors import KmslabError
from harness.evidence.guard import install_guard
from harness.evidence.scrub import scrub, to_jsonable

ClientHook = Callable[[Any, str], None]

# Shorter than harness.aws defaults: total collection time is bounded, and one slow
# service must not hold the bundle back.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
MAX_ATTEMPTS = 4  # per call, the first try included
MAX_MESSAGE = 1000  # emulators answer unimplemented APIs with whole HTML error pages


def make_client(target: Target, service: str, region: str, max_attempts: int) -> Any:
    """A client with the collection's timeouts; `Target` shares sessions and models."""
    return target.client(
        service,
        region,
        max_attempts=max_attempts,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
    )


@dataclass
class Credentials:
    """One set of credentials: the investigator's, or those for the key's account."""

    label: str  # "investigator" | "key-account"
    target: Target
    account: str | None = None


@dataclass
class Stats:
    operations: list[str] = field(default_factory=list)  # one per API call (before retries)
    http_requests: int = 0


class CallLog:
    def __init__(
        self, client_hook: ClientHook | None = None, max_attempts: int = MAX_ATTEMPTS
    ) -> None:
        self._max_attempts = max_attempts
        self._lock = threading.Lock()
        self._client_lock = threading.Lock()  # one client per key, even when asked at once
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._inflight: dict[str, Future[Any]] = {}
        self._records: list[tuple[int, dict[str, Any]]] = []
        self._frozen = False
        self._seq = 0
        self._client_hook = client_hook
        self.stats = Stats()

    # -- clients -----------------------------------------------------------------------------

    def client(self, creds: Credentials, service: str, region: str) -> Any:
        key = (creds.label, region, service)
        with self._client_lock:
            existing = self._clients.get(key)
            if existing is None:
                existing = self._clients[key] = self._new_client(creds, service, region)
        return existing

    def _new_client(self, creds: Credentials, service: str, region: str) -> Any:
        client = make_client(creds.target, service, region, self._max_attempts)
        install_guard(client, service)
        client.meta.events.register("before-call.*.*", self._count_call(service))
        client.meta.events.register("before-send.*.*", self._count_send)
        if self._client_hook is not None:
            self._client_hook(client, service)
        return client

    def _count_call(self, service: str) -> Callable[..., None]:
        def count(model: Any, **_: Any) -> None:
            with self._lock:
                self.stats.operations.append(f"{service}:{model.name}")

        return count

    def _count_send(self, **_: Any) -> None:
        with self._lock:
            self.stats.http_requests += 1

    # -- calls -------------------------------------------------------------------------------

    def call(
        self,
        creds: Credentials,
        service: str,
        operation: str,
        region: str,
        params: dict[str, Any] | None = None,
        *,
        paginate: bool = False,
        max_items: int = 1000,
        account: str | None = None,
        keep: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        note: str | None = None,
        raise_unreachable: bool = False,
    ) -> dict[str, Any] | None:
        """Make (or reuse) one read call, record it, and return its response or None."""
        params = dict(params or {})
        dedup = json.dumps(
            [creds.label, service, operation, region, params], sort_keys=True, default=str
        )
        with self._lock:
            pending = self._inflight.get(dedup)
            owner = pending is None
            if owner:
                pending = Future()
                self._inflight[dedup] = pending
                self._seq += 1
                seq = self._seq
        assert pending is not None
        if not owner:
            result: dict[str, Any] | None = pending.result()
            return result
        record: dict[str, Any] = {
            "service": service,
            "operation": operation,
            "region": region,
        }
        if account or creds.account:
            record["account"] = account or creds.account
        record["params"] = to_jsonable(params)
        response: dict[str, Any] | None = None
        try:
            response = self._send(creds, service, operation, region, params, paginate, max_items)
            kept = keep(response) if keep else response
            if (
                "account" not in record
                and operation == "GetCallerIdentity"
                and response.get("Account")
            ):
                # Whose credentials these are is what this call finds out.
                record["account"] = str(response["Account"])
            record["response"] = scrub(to_jsonable(kept))
            if note:
                record["note"] = note
        except KmslabError:
            # A refused write, or a usage error such as an unknown profile: never evidence.
            pending.set_result(None)
            raise
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            record["error"] = {
                "code": str(error.get("Code") or status or "Unknown"),
                "message": str(error.get("Message") or "")[:MAX_MESSAGE],
            }
            if status:
                record["error"]["http_status"] = status
        except botocore.exceptions.BotoCoreError as exc:
            if raise_unreachable and (
                is_connection_error(exc) or isinstance(exc, botocore.exceptions.NoCredentialsError)
            ):
                pending.set_result(None)
                raise
            code = type(exc).__name__
            record["error"] = {"code": code, "message": str(exc)[:MAX_MESSAGE]}
            if is_connection_error(exc):
                record["error"]["connection"] = True
        except Exception as exc:
            # A malformed response from an emulator must not lose the other evidence.
            record["error"] = {"code": type(exc).__name__, "message": str(exc)[:MAX_MESSAGE]}
        self.add(record, seq)
        pending.set_result(response)
        return response

    def _send(
        self,
        creds: Credentials,
        service: str,
        operation: str,
        region: str,
        params: dict[str, Any],
        paginate: bool,
        max_items: int,
    ) -> dict[str, Any]:
        client = self.client(creds, service, region)
        method = xform_name(operation)
        if paginate and client.can_paginate(method):
            pages = client.get_paginator(method).paginate(
                **params, PaginationConfig={"MaxItems": max_items}
            )
            full: dict[str, Any] = pages.build_full_result()
            return full
        single: dict[str, Any] = getattr(client, method)(**params)
        return single

    def add(self, record: dict[str, Any], seq: int | None = None) -> None:
        """Record a call (also used for evidence known to be unreadable without calling)."""
        with self._lock:
            if self._frozen:
                return
            if seq is None:
                self._seq += 1
                seq = self._seq
            self._records.append((seq, record))

    def freeze(self) -> list[dict[str, Any]]:
        """The calls so far, in the order they were started; later ones are dropped."""
        with self._lock:
            self._frozen = True
            return [record for _, record in sorted(self._records, key=lambda item: item[0])]
