"""Run the collectors: concurrently, read-only, bounded in time, into a bundle.

Order: GetCallerIdentity first (it proves the endpoint and credentials work, and says
whose account the investigator acts in); then every collector that does not need the key
runs beside DescribeKey; once DescribeKey has resolved the key's ARN, the rest start.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Any

from harness.aws.clients import Target, endpoint_errors
from harness.evidence.calls import CallLog, ClientHook, Credentials
from harness.evidence.collectors.key import KEY_RESOLVER
from harness.evidence.guard import ReadOnlyViolation
from harness.evidence.investigation import DeadlineExceeded, Investigation
from harness.evidence.registered import collectors
from harness.evidence.registry import Collector
from harness.evidence.request import InvestigationRequest
from harness.evidence.threads import DaemonPool

BUNDLE_KIND = "kms-evidence-bundle"
BUNDLE_VERSION = 1


@dataclass
class CollectOptions:
    timeout: float = 60.0  # seconds for the whole collection
    lookback_hours: float = 24.0  # CloudTrail and CloudWatch Logs window
    workers: int = 12
    max_attempts: int = 4  # per call, first try included (botocore adaptive retries)
    client_hook: ClientHook | None = None  # called with every client created (tests, tracing)


@dataclass
class CollectionResult:
    bundle: dict[str, Any]
    operations: list[str] = field(default_factory=list)  # API calls sent, in order
    http_requests: int = 0  # including retries
    seconds: float = 0.0


def collect(
    req: InvestigationRequest,
    target: Target,
    key_target: Target | None = None,
    *,
    options: CollectOptions | None = None,
) -> dict[str, Any]:
    """The evidence bundle (contract section 3) for `req`, read with `target`'s credentials.

    `key_target` reads the key's side (key policy, grants, aliases, state) in the key's
    account; without it the investigator reads it, and when the key is in another account
    the evidence KMS does not share across accounts is recorded as unreadable.
    """
    return run_collection(req, target, key_target, options=options).bundle


def run_collection(
    req: InvestigationRequest,
    target: Target,
    key_target: Target | None = None,
    *,
    options: CollectOptions | None = None,
) -> CollectionResult:
    opts = options or CollectOptions()
    started = time.monotonic()
    started_at = time.time()
    region = req.region or target.resolved_region()
    key_ref = req.key_ref
    log = CallLog(opts.client_hook, max_attempts=opts.max_attempts)
    investigator = Credentials("investigator", target)
    investigator.account, investigator_arn = _whoami(log, investigator, region)
    key_account = key_ref.account or req.key_account or investigator.account
    key_side: Credentials | None = investigator
    if key_target is not None:
        # The key's side read by whoever `key_target` is (its account's administrators), in
        # the key's account whether or not the investigator's account is the same.
        key_side = Credentials("key-account", key_target)
        key_side.account, _ = _whoami(log, key_side, key_ref.region or region)
    elif key_account and investigator.account and key_account != investigator.account:
        key_side = None
    fanout = DaemonPool(opts.workers * 2, "kmslab-fanout")
    outer = DaemonPool(opts.workers, "kmslab-collect")
    inv = Investigation(
        request=req,
        principal=req.parsed_principal,
        key_ref=key_ref,
        region=region,
        key_region=key_ref.region or region,
        log=log,
        investigator=investigator,
        key_side=key_side,
        key_account=key_account,
        fanout=fanout,
        deadline=started + opts.timeout,
        lookback_seconds=opts.lookback_hours * 3600,
        started_at=started_at,
        investigator_arn=investigator_arn,
    )
    status: dict[str, str] = {}
    try:
        registered = collectors()
        first = [c for c in registered if not c.needs_key]
        running: dict[str, Future[None]] = {c.name: outer.submit(c.fn, inv) for c in first}
        resolver = running[KEY_RESOLVER]
        wait([resolver], timeout=inv.remaining())
        if resolver.done():
            later = [c for c in registered if c.needs_key]
            running.update({c.name: outer.submit(c.fn, inv) for c in later})
        else:
            status.update({c.name: "timeout" for c in registered if c.needs_key})
        wait(list(running.values()), timeout=inv.remaining())
        status.update(_outcomes(running, {c.name: c for c in registered}))
        calls = log.freeze()
    finally:
        outer.close()
        fanout.close()
    seconds = time.monotonic() - started
    bundle: dict[str, Any] = {
        "kind": BUNDLE_KIND,
        "version": BUNDLE_VERSION,
        "collected_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "request": _request(req, region, inv),
        "calls": calls,
        "collection": {
            "collectors": dict(sorted(status.items())),
            "api_calls": len(log.stats.operations),
            "throttled_not_sent": log.stats.not_sent,
            "seconds": round(seconds, 3),
            "lookback_hours": opts.lookback_hours,
        },
    }
    return CollectionResult(bundle, list(log.stats.operations), log.stats.http_requests, seconds)


def _request(req: InvestigationRequest, region: str, inv: Investigation) -> dict[str, Any]:
    out = req.to_dict(region)
    # The key's owner, once known: the diagnosis tells cross-account failures by it.
    owner = (inv.key_metadata or {}).get("AWSAccountId") or inv.key_account
    if owner and "key_account" not in out:
        out["key_account"] = str(owner)
    return out


def _whoami(log: CallLog, creds: Credentials, region: str) -> tuple[str | None, str | None]:
    """The account and ARN the credentials act as; unreachable endpoints end the run (exit 3)."""
    with endpoint_errors("evidence collection"):
        identity = log.call(creds, "sts", "GetCallerIdentity", region, raise_unreachable=True)
    account = (identity or {}).get("Account")
    arn = (identity or {}).get("Arn")
    return (str(account) if account else None), (str(arn) if arn else None)


def _outcomes(running: dict[str, Future[None]], by_name: dict[str, Collector]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, future in running.items():
        if not future.done():
            out[name] = "timeout"
            continue
        exc = future.exception()
        if isinstance(exc, DeadlineExceeded):
            out[name] = "timeout"
            continue
        if isinstance(exc, ReadOnlyViolation):
            raise exc
        # A collector bug costs that collector's evidence, never the bundle.
        out[name] = "ok" if exc is None else f"failed: {type(exc).__name__}: {exc}"
    return out
