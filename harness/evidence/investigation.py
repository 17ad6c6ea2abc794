"""What every collector sees: the request, whose credentials read which account, the key once
resolved, and the call log."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, TypeVar

from harness.aws.arns import PrincipalArn
from harness.evidence.calls import CallLog, Credentials
from harness.evidence.request import InvestigationRequest, KeyRef
from harness.evidence.threads import DaemonPool

T = TypeVar("T")
R = TypeVar("R")

UNREADABLE = "CrossAccountUnreadable"


class DeadlineExceeded(Exception):
    """The collection's time ran out while a collector waited on its calls."""


@dataclass
class Investigation:
    request: InvestigationRequest
    principal: PrincipalArn
    key_ref: KeyRef
    region: str  # where the failing call was made
    key_region: str  # where the key lives (the key ARN's region, else the call's)
    log: CallLog
    investigator: Credentials
    key_side: Credentials | None  # None: the key's account is not readable
    key_account: str | None
    fanout: DaemonPool
    deadline: float
    lookback_seconds: float
    started_at: float = field(default_factory=time.time)  # wall clock, for log windows
    investigator_arn: str | None = None
    key_arn: str | None = None
    key_metadata: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def partition(self) -> str:
        return self.principal.partition

    @property
    def global_region(self) -> str:
        """Where to call global services (IAM, Organizations, Health).

        In the aws partition their endpoints are in us-east-1; in the others botocore maps
        any of the partition's regions to its global endpoint, so the call's region serves.
        """
        return "us-east-1" if self.partition == "aws" else self.region

    @property
    def investigator_account(self) -> str | None:
        return self.investigator.account

    @property
    def cross_account(self) -> bool:
        return bool(
            self.key_account
            and self.investigator_account
            and self.key_account != self.investigator_account
        )

    def key_creds(self) -> Credentials | None:
        """Credentials that can read owner-only key evidence (key policy, aliases, rotations)."""
        return self.key_side

    def key_or_investigator(self) -> Credentials:
        """For calls KMS allows cross-account (DescribeKey, ListGrants, GetKeyRotationStatus)."""
        return self.key_side or self.investigator

    def creds_for(self, account: str | None) -> Credentials | None:
        """Credentials that act in `account`, if the user supplied any."""
        for creds in (self.investigator, self.key_side):
            if creds is not None and account is not None and creds.account == account:
                return creds
        if account is None or self.investigator.account is None:
            return self.investigator
        return None

    def call(
        self,
        creds: Credentials,
        service: str,
        operation: str,
        region: str,
        params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        return self.log.call(creds, service, operation, region, params, **kwargs)

    def unreadable(
        self,
        service: str,
        operation: str,
        region: str,
        params: dict[str, Any],
        account: str | None,
    ) -> None:
        """Record evidence that lives in an account no supplied credentials can read."""
        record: dict[str, Any] = {"service": service, "operation": operation, "region": region}
        if account:
            record["account"] = account
        record["params"] = params
        record["error"] = {
            "code": UNREADABLE,
            "message": (
                f"{service}:{operation} reads account {account or 'unknown'}, which the "
                "investigator's credentials do not act in; pass --key-profile for it"
            ),
        }
        self.log.add(record)

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def parallel(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R | None]:
        """Run `fn` over `items` concurrently; DeadlineExceeded if they outlast the collection."""
        futures = [self.fanout.submit(fn, item) for item in items]
        results: list[R | None] = []
        for future in futures:
            try:
                results.append(future.result(timeout=self.remaining()))
            except FutureTimeout as exc:
                raise DeadlineExceeded("collection deadline passed") from exc
        return results
