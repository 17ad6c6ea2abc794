"""Guarded clients, one per (credentials, region, service), and the record of every call.

A call that fails is recorded with its error and returns None: AccessDenied, throttling
after botocore's adaptive retries, or an API the endpoint does not implement never stop
the other collectors. Identical calls made by two collectors are sent once.

Throttling quotas are per account and Region (https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html),
and the investigator's reads count against the same quota as the failing workload. Once the
calls of one (credentials, service, region) are throttled THROTTLE_TRIP times in a row, or one
of them is still throttled after its retries, a breaker opens: retries in flight stop and the
remaining calls there are recorded as throttled without being sent. Under sustained throttling
the collection then ends in about a second instead of at its deadline, and the bundle still
says which evidence was throttled.
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

from harness.aws.clients import ClientCache, Target, is_connection_error
from harness.aws.codes import THROTTLING_CODES
from harness.errors import KmslabError
from harness.evidence.guard import install_guard
from harness.evidence.scrub import scrub, to_jsonable

ClientHook = Callable[[Any, str], None]

# Shorter than harness.aws.clients defaults: total collection time is bounded, and one slow
# service must not hold the bundle back.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
MAX_ATTEMPTS = 4  # per call, the first try included
MAX_MESSAGE = 1000  # emulators answer unimplemented APIs with whole HTML error pages
THROTTLE_TRIP = 2  # throttled responses in a row (retries included) that open a breaker
NOT_SENT = "not sent"

ClientKey = tuple[str, str, str]  # (credentials label, region, service)


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
    not_sent: int = 0  # calls recorded as throttled without being sent


class Breakers:
    """Throttled responses in a row, and the open breakers, per client key."""

    def __init__(self, trip: int = THROTTLE_TRIP) -> None:
        self._trip = trip
        self._lock = threading.Lock()
        self._in_a_row: dict[ClientKey, int] = {}
        self._open: set[ClientKey] = set()

    def observe(self, key: ClientKey, throttled: bool) -> bool:
        """Count one response; True when the breaker for `key` is (now) open and it throttled."""
        with self._lock:
            if not throttled:
                self._in_a_row[key] = 0
                return False
            self._in_a_row[key] = self._in_a_row.get(key, 0) + 1
            if self._in_a_row[key] >= self._trip:
                self._open.add(key)
            return key in self._open

    def open(self, key: ClientKey) -> None:
        with self._lock:
            self._open.add(key)

    def is_open(self, key: ClientKey) -> bool:
        with self._lock:
            return key in self._open


class BreakerOpen(botocore.exceptions.ClientError):
    """The throttled response that ends a call's retries once its breaker is open."""


# The log, breaker key and client of the call a thread is making: botocore emits a call's
# events in the thread that makes it, so hooks on a shared client find their log here.
_ACTIVE = threading.local()
GUARDED = ClientCache()  # read-only guarded clients, shared by every collection


def _active() -> tuple[CallLog, ClientKey, Any] | None:
    active: tuple[CallLog, ClientKey, Any] | None = getattr(_ACTIVE, "call", None)
    return active


def _guarded(client: Any, service: str) -> Any:
    """`client` refusing every write (the read-only guard) and counted by the active log."""
    install_guard(client, service)

    def count_call(model: Any, **_: Any) -> None:
        active = _active()
        if active is not None:
            active[0]._count_call(service, model.name)

    def count_send(**_: Any) -> None:
        active = _active()
        if active is not None:
            active[0]._count_send()

    def observe(response: Any = None, operation: Any = None, **_: Any) -> None:
        active = _active()
        if response is None or active is None:
            return  # no HTTP answer (connection error): says nothing about throttling
        parsed = response[1] if isinstance(response, tuple) else {}
        active[0]._observe(active[1], active[2], parsed, operation.name)

    client.meta.events.register("before-call.*.*", count_call)
    client.meta.events.register("before-send.*.*", count_send)
    client.meta.events.register_first("needs-retry.*.*", observe)
    return client


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
        self._breakers = Breakers()
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
        if self._client_hook is None:
            # Shared with later collections by the same credentials (`kmslab run` collects
            # twice a scenario, and the operators every scenario): the guard and the
            # counting hooks act for the log whose call the thread is making (`_ACTIVE`).
            cache_key = creds.target.client_key(service, region, "guarded", self._max_attempts)
            return GUARDED.get(
                cache_key,
                lambda: _guarded(
                    make_client(creds.target, service, region, self._max_attempts), service
                ),
            )
        client = _guarded(make_client(creds.target, service, region, self._max_attempts), service)
        self._client_hook(client, service)
        return client

    def _count_call(self, service: str, operation: str) -> None:
        with self._lock:
            self.stats.operations.append(f"{service}:{operation}")

    def _count_send(self) -> None:
        with self._lock:
            self.stats.http_requests += 1

    def _observe(self, key: ClientKey, client: Any, parsed: dict[str, Any], operation: str) -> None:
        code = (parsed.get("Error") or {}).get("Code")
        if code in THROTTLING_CODES:
            # botocore's adaptive retries now limit this client's sending rate: that state
            # belongs to this collection, not to the next one that would share the client.
            GUARDED.drop(client)
        if self._breakers.observe(key, code in THROTTLING_CODES):
            # Raised before botocore's retry handler sleeps: the call ends with AWS's answer.
            raise BreakerOpen(parsed, operation)

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
        breaker = (creds.label, region, service)
        if self._breakers.is_open(breaker):
            self._not_sent(record, creds, service, region)
            self.add(record, seq)
            pending.set_result(None)
            return None
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
            if record["error"]["code"] in THROTTLING_CODES:
                # Throttled after its retries: the quota is exhausted for now.
                self._breakers.open(breaker)
                if isinstance(exc, BreakerOpen):
                    record["note"] = "retries stopped: " + self._throttled(creds, service, region)
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

    def _throttled(self, creds: Credentials, service: str, region: str) -> str:
        return (
            f"{service} calls of account {creds.account or creds.label} in {region} "
            "were throttled after their retries or "
            f"{THROTTLE_TRIP} times in a row"
        )

    def _not_sent(
        self, record: dict[str, Any], creds: Credentials, service: str, region: str
    ) -> None:
        why = self._throttled(creds, service, region)
        record["error"] = {"code": "ThrottlingException", "message": f"{NOT_SENT}: {why}"}
        record["note"] = f"{NOT_SENT}: {why}; sending more would only add to the throttling"
        with self._lock:
            self.stats.not_sent += 1

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
        previous = getattr(_ACTIVE, "call", None)
        _ACTIVE.call = (self, (creds.label, region, service), client)
        try:
            if paginate and client.can_paginate(method):
                pages = client.get_paginator(method).paginate(
                    **params, PaginationConfig={"MaxItems": max_items}
                )
                full: dict[str, Any] = pages.build_full_result()
                return full
            single: dict[str, Any] = getattr(client, method)(**params)
            return single
        finally:
            _ACTIVE.call = previous

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
