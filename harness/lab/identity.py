"""Who is calling: operator credentials (access key id = account id) or lab-issued credentials."""

from __future__ import annotations

import datetime as dt
import secrets
import string
import threading
from dataclasses import dataclass, field
from typing import Any

from harness.aws import arns
from harness.aws.arns import is_account_id
from harness.aws.errors import UnrecognizedClient
from harness.lab.errors import AwsError

_ALNUM = string.ascii_uppercase + string.digits


def random_id(prefix: str, length: int = 16) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


@dataclass
class LabPrincipal:
    """The identity a request acts as."""

    account: str
    arn: str
    kind: str  # "Root" (operator or root session), "AssumedRole", "IAMUser"
    operator: bool = False
    access_key: str = ""
    user_id: str = ""
    role_name: str | None = None
    role_arn: str | None = None
    role_id: str | None = None
    session_name: str | None = None
    user_name: str | None = None
    session_policy: dict[str, Any] | None = None
    issued_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    expires: dt.datetime | None = None
    # What SigV4 verification needs: the secret the lab handed out, and for temporary
    # credentials the session token that must accompany every request.
    secret: str = field(default="", repr=False)
    session_token: str | None = field(default=None, repr=False)

    @property
    def username(self) -> str:
        """What CloudTrail LookupEvents calls Username."""
        if self.kind == "AssumedRole":
            return self.session_name or ""
        if self.kind == "IAMUser":
            return self.user_name or ""
        return "root"

    def user_identity(self, invoked_by: str | None = None) -> dict[str, Any]:
        """CloudTrail userIdentity for this principal."""
        ident: dict[str, Any] = {
            "type": self.kind,
            "principalId": self.user_id or self.account,
            "arn": self.arn,
            "accountId": self.account,
        }
        if self.access_key:
            ident["accessKeyId"] = self.access_key
        if self.kind == "IAMUser":
            ident["userName"] = self.user_name
        if self.kind == "AssumedRole":
            ident["sessionContext"] = {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": self.role_id or "",
                    "arn": self.role_arn,
                    "accountId": self.account,
                    "userName": self.role_name,
                },
                "attributes": {
                    "creationDate": self.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "mfaAuthenticated": "false",
                },
            }
        if invoked_by:
            ident["invokedBy"] = invoked_by
        return ident


def operator(account: str) -> LabPrincipal:
    return LabPrincipal(
        account=account,
        arn=arns.account_root(account),
        kind="Root",
        operator=True,
        access_key=account,
        user_id=account,
    )


class IdentityStore:
    """Credentials the lab issued, by access key id."""

    def __init__(self) -> None:
        self._by_key: dict[str, LabPrincipal] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._by_key.clear()

    def register(self, principal: LabPrincipal) -> None:
        with self._lock:
            self._by_key[principal.access_key] = principal

    def forget(self, access_key: str) -> None:
        with self._lock:
            self._by_key.pop(access_key, None)

    def forget_user(self, account: str, user_name: str) -> None:
        with self._lock:
            for key, p in list(self._by_key.items()):
                if p.account == account and p.user_name == user_name:
                    del self._by_key[key]

    def lookup(self, access_key: str) -> LabPrincipal | None:
        """The issued credential with this access key id (operators are not stored)."""
        with self._lock:
            return self._by_key.get(access_key)

    def identify(self, access_key: str) -> LabPrincipal:
        if is_account_id(access_key):
            return operator(access_key)
        with self._lock:
            principal = self._by_key.get(access_key)
        if principal is None:
            raise UnrecognizedClient()
        if principal.expires is not None and principal.expires < dt.datetime.now(dt.UTC):
            raise AwsError(
                "ExpiredTokenException", "The security token included in the request is expired"
            )
        return principal

    def issue(
        self, template: LabPrincipal, ttl_seconds: int | None, now: dt.datetime | None = None
    ) -> tuple[LabPrincipal, str, str]:
        """A new temporary credential for `template`; returns (principal, secret, token).
        `now` is the lab's clock (controls clock_offset_seconds), so expiry follows it."""
        key = random_id("ASIA")
        secret = secrets.token_urlsafe(30)[:40]
        token = secrets.token_urlsafe(96)
        now = now or dt.datetime.now(dt.UTC)
        principal = LabPrincipal(**{**template.__dict__})
        principal.access_key = key
        principal.secret = secret
        principal.session_token = token
        principal.operator = False
        principal.issued_at = now
        principal.expires = now + dt.timedelta(seconds=ttl_seconds) if ttl_seconds else None
        self.register(principal)
        return principal, secret, token
