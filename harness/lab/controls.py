"""Lab controls: what cannot be built from AWS resources, set from scenario data or the CLI.

The JSON shape (every field optional in a `set`, merged into the current controls):

```json
{
  "grant_propagation_seconds": 0,
  "throttle": {"222222222222": 0},
  "custom_key_stores": {"cks-0123456789abcdef0": {"ConnectionState": "DISCONNECTED",
                                                   "ConnectionErrorCode": "NETWORK_ERRORS"}},
  "health_events": [{"region": "us-east-1", "service": "KMS",
                     "eventTypeCode": "AWS_KMS_OPERATIONAL_ISSUE", "statusCode": "open",
                     "description": "Increased error rates"}],
  "grant_quota": 50000,
  "key_states": {"arn:aws:kms:us-east-1:111111111111:key/...": "Creating"},
  "authorize_iam": true,
  "enforce_trust_policies": true,
  "clock_offset_seconds": 0,
  "accounts": {"700000010001": {"grant_quota": 2, "health_events": []}}
}
```

- `grant_propagation_seconds`: a grant younger than this authorizes only requests that pass
  its grant token (grants.html, eventual consistency).
- `throttle`: per account, the KMS requests per second allowed before ThrottlingException
  ("You have exceeded the rate at which you may call KMS. ..."): a number applies to every
  KMS call of the account; `{"rps": n, "scope": "crypto"}` applies only to the shared quota
  of cryptographic operations (Encrypt, Decrypt, ReEncrypt, GenerateDataKey*, Sign, Verify,
  GenerateMac, VerifyMac, GetPublicKey, GenerateRandom; requests-per-second.html), so
  management calls such as DescribeKey keep working as they would in AWS. 0 throttles every
  such call; `null` removes the limit.
- `custom_key_stores`: connection state per custom key store id or name (an object with
  `ConnectionState` and optional `ConnectionErrorCode`, or a bare state string); keys in a
  store that is not CONNECTED are Unavailable. Connect/DisconnectCustomKeyStore clear it.
- `health_events`: what AWS Health DescribeEvents returns.
- `grant_quota`: grants per key before CreateGrant fails with LimitExceededException.
- `key_states`: a transient state (`Creating`, `Updating`) forced on a key ARN; `null` removes it.
- `authorize_iam`: IAM, CloudTrail, CloudWatch Logs, EC2, Organizations and Health calls made
  with issued credentials are authorized by their identity policies, boundary, session policy
  and SCPs (operators are never authorized).
- `enforce_trust_policies`: AssumeRole by issued credentials needs the role's trust policy
  (and, when it only names the account, the caller's IAM) to allow sts:AssumeRole.
- `clock_offset_seconds`: seconds added to the lab's clock for credential lifetimes (issue
  time and expiry of STS credentials), so expiry is testable without waiting; signatures
  are still checked against the real clock, as clients sign with theirs.
- `accounts`: per account id, its own `grant_propagation_seconds`, `grant_quota`,
  `health_events` and `clock_offset_seconds` (credentials issued in that account) in place
  of the lab-wide ones (for a key: its owner's account; for Health:
  the caller's), so a workshop can give one participant's accounts a control without reaching
  the rest of the room. `null` for an account removes its overrides.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from typing import Any

from harness.errors import UsageError

TRANSIENT_STATES = ("Creating", "Updating", "PendingReplicaDeletion", "Unavailable")
CONNECTION_STATES = ("CONNECTED", "CONNECTING", "DISCONNECTED", "DISCONNECTING", "FAILED")
FIELDS = (
    "grant_propagation_seconds",
    "throttle",
    "custom_key_stores",
    "health_events",
    "grant_quota",
    "key_states",
    "authorize_iam",
    "enforce_trust_policies",
    "clock_offset_seconds",
    "accounts",
)
# The lab-wide controls an account may override for itself.
ACCOUNT_FIELDS = (
    "grant_propagation_seconds",
    "grant_quota",
    "health_events",
    "clock_offset_seconds",
)


def defaults() -> dict[str, Any]:
    return {
        "grant_propagation_seconds": 0,
        "throttle": {},
        "custom_key_stores": {},
        "health_events": [],
        "grant_quota": 50000,
        "key_states": {},
        "authorize_iam": True,
        "enforce_trust_policies": True,
        "clock_offset_seconds": 0,
        "accounts": {},
    }


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise UsageError(f"controls: {name} must be a number >= 0, got {value!r}")
    return float(value)


def validate(update: Any) -> dict[str, Any]:
    """Check a controls update; raises UsageError naming the field."""
    if not isinstance(update, dict):
        raise UsageError("controls: expected a JSON object")
    unknown = sorted(set(update) - set(FIELDS))
    if unknown:
        raise UsageError(f"controls: unknown field {unknown[0]!r} (known: {', '.join(FIELDS)})")
    for account, override in (update.get("accounts") or {}).items():
        if not (len(account) == 12 and account.isdigit()):
            raise UsageError(f"controls: accounts key {account!r} is not a 12-digit account id")
        if override is None:
            continue
        if not isinstance(override, dict):
            raise UsageError(f"controls: accounts[{account}] must be an object or null")
        extra = sorted(set(override) - set(ACCOUNT_FIELDS))
        if extra:
            raise UsageError(
                f"controls: accounts[{account}] cannot set {extra[0]!r} "
                f"(per account: {', '.join(ACCOUNT_FIELDS)})"
            )
        validate(override)
    if "grant_propagation_seconds" in update:
        _number("grant_propagation_seconds", update["grant_propagation_seconds"])
    if "grant_quota" in update:
        _number("grant_quota", update["grant_quota"])
    offset = update.get("clock_offset_seconds", 0)
    if isinstance(offset, bool) or not isinstance(offset, int | float) or abs(offset) > 10**9:
        raise UsageError(
            f"controls: clock_offset_seconds must be a number of seconds, got {offset!r}"
        )
    for flag in ("authorize_iam", "enforce_trust_policies"):
        if flag in update and not isinstance(update[flag], bool):
            raise UsageError(f"controls: {flag} must be true or false")
    for name in ("throttle", "custom_key_stores", "key_states", "accounts"):
        if name in update and not isinstance(update[name], dict):
            raise UsageError(f"controls: {name} must be an object")
    for account, rate in (update.get("throttle") or {}).items():
        if not (len(account) == 12 and account.isdigit()):
            raise UsageError(f"controls: throttle key {account!r} is not a 12-digit account id")
        if isinstance(rate, dict):
            if rate.get("scope", "all") not in ("all", "crypto"):
                raise UsageError(f"controls: throttle[{account}].scope must be all or crypto")
            _number(f"throttle[{account}].rps", rate.get("rps"))
        elif rate is not None:
            _number(f"throttle[{account}]", rate)
    for arn, state in (update.get("key_states") or {}).items():
        if state is not None and state not in TRANSIENT_STATES:
            raise UsageError(
                f"controls: key_states[{arn}] must be one of {', '.join(TRANSIENT_STATES)} or null"
            )
    for store, conn in (update.get("custom_key_stores") or {}).items():
        state = conn.get("ConnectionState") if isinstance(conn, dict) else conn
        if state not in CONNECTION_STATES:
            raise UsageError(
                f"controls: custom_key_stores[{store}] ConnectionState must be one of "
                f"{', '.join(CONNECTION_STATES)}"
            )
    events = update.get("health_events", [])
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise UsageError("controls: health_events must be a list of objects")
    for event in events:
        for required in ("region", "eventTypeCode"):
            if required not in event:
                raise UsageError(f"controls: every health event needs {required!r}")
    return update


class Controls:
    """The current controls and the throttling windows they drive."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data = defaults()
        self._calls: dict[str, deque[float]] = {}

    def reset(self) -> None:
        with self._lock:
            self._data = defaults()
            self._calls.clear()

    def merge(self, update: dict[str, Any]) -> dict[str, Any]:
        validate(update)
        with self._lock:
            for name, value in update.items():
                if name in ("throttle", "key_states", "custom_key_stores", "accounts"):
                    merged = dict(self._data[name])
                    for k, v in value.items():
                        if v is None:
                            merged.pop(k, None)
                        elif name == "accounts":
                            # One account's fields merge, so setting its quota keeps its events.
                            merged[k] = {**merged.get(k, {}), **v}
                        else:
                            merged[k] = v
                    self._data[name] = merged
                else:
                    self._data[name] = value
            return self.snapshot_locked()

    def snapshot_locked(self) -> dict[str, Any]:
        import copy

        return copy.deepcopy(self._data)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self.snapshot_locked()

    @property
    def grant_propagation_seconds(self) -> float:
        return float(self._data["grant_propagation_seconds"])

    @property
    def grant_quota(self) -> int:
        return int(self._data["grant_quota"])

    def now(self, account: str | None = None) -> dt.datetime:
        """The lab's clock for credential lifetimes of `account` (real time plus its
        `clock_offset_seconds`, or the lab-wide one)."""
        offset = self._for(account, "clock_offset_seconds")
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)

    def _for(self, account: str | None, name: str) -> Any:
        override = self._data["accounts"].get(account) if account else None
        if isinstance(override, dict) and name in override:
            return override[name]
        return self._data[name]

    def grant_propagation_for(self, account: str | None) -> float:
        return float(self._for(account, "grant_propagation_seconds"))

    def grant_quota_for(self, account: str | None) -> int:
        return int(self._for(account, "grant_quota"))

    def flag(self, name: str) -> bool:
        return bool(self._data[name])

    def key_state(self, arn: str) -> str | None:
        state = self._data["key_states"].get(arn)
        return str(state) if state else None

    def health_events(self, account: str | None = None) -> list[dict[str, Any]]:
        return list(self._for(account, "health_events"))

    def store_override(self, store_id: str, name: str) -> dict[str, Any] | None:
        """The connection state forced on a custom key store (by id or name), if any."""
        stores = self._data["custom_key_stores"]
        conn = stores.get(store_id, stores.get(name))
        if conn is None:
            return None
        return dict(conn) if isinstance(conn, dict) else {"ConnectionState": conn}

    def clear_store_override(self, store_id: str, name: str) -> None:
        with self._lock:
            stores = dict(self._data["custom_key_stores"])
            stores.pop(store_id, None)
            stores.pop(name, None)
            self._data["custom_key_stores"] = stores

    def throttled(self, account: str, crypto: bool) -> bool:
        """Record one KMS request of `account`; True when it is over the account's rate."""
        limit = self._data["throttle"].get(account)
        if isinstance(limit, dict):
            if limit.get("scope", "all") == "crypto" and not crypto:
                return False
            limit = limit.get("rps")
        if limit is None:
            return False
        if limit <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            window = self._calls.setdefault(account, deque())
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= limit:
                return True
            window.append(now)
            return False
