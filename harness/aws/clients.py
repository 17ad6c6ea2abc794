"""boto3 sessions and clients that behave like the AWS CLI's options.

`--endpoint-url`, `--region`, `--profile` and the standard environment variables
(`AWS_ENDPOINT_URL`, `AWS_PROFILE`, `AWS_REGION`, `AWS_DEFAULT_REGION`) resolve the
same way the AWS CLI resolves them. Nothing here knows about the lab.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import boto3
import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.session

from harness.errors import EndpointError, UsageError

T = TypeVar("T")

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Target:
    """Where and as whom to make AWS calls."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    # Credentials re-issued in place (CredentialSlot): clients made for this Target sign each
    # request with what the slot holds then, instead of fixed keys.
    slot: CredentialSlot | None = None

    def resolved_region(self) -> str:
        return (
            self.region
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or self._profile_region()
            or DEFAULT_REGION
        )

    def _profile_region(self) -> str | None:
        if not self.profile and not os.environ.get("AWS_PROFILE"):
            return None
        try:
            return str(self.session().region_name or "") or None
        except UsageError:
            return None

    def session(self) -> boto3.Session:
        """One boto3 Session per set of credentials, all sharing botocore's data loader."""
        if self.slot is not None:
            return self.slot.session()
        key = (
            self.profile, self.region, self.access_key_id, self.secret_access_key,
            self.session_token, *_config_files(),
        )  # fmt: skip
        with _LOCK:
            session = _SESSIONS.get(key)
            if session is None:
                if len(_SESSIONS) >= _MAX_SESSIONS:  # issued credentials come and go
                    _SESSIONS.clear()
                session = _SESSIONS[key] = _new_session(self)
            return session

    def client(
        self,
        service: str,
        region: str | None = None,
        *,
        max_attempts: int = 3,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
    ) -> Any:
        """A boto3 client with adaptive retries; endpoint from the option or the environment.

        `max_attempts` counts the first try, as the AWS CLI's `max_attempts` does.
        """
        config = botocore.config.Config(
            retries={"mode": "adaptive", "total_max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        kwargs: dict[str, Any] = {"region_name": region or self.resolved_region(), "config": config}
        endpoint = self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        if self.slot is not None:
            session = self.slot.session()
        elif self.access_key_id and self.secret_access_key:
            # Explicit credentials go to the client: issued credentials come and go (a new
            # set each scenario), and a Session of their own would cost ~17 ms each time.
            session = _profile_session(self.profile)
            kwargs["aws_access_key_id"] = self.access_key_id
            kwargs["aws_secret_access_key"] = self.secret_access_key
            kwargs["aws_session_token"] = self.session_token
        else:
            session = self.session()
        with _LOCK:  # boto3 Sessions are not thread-safe; the clients they make are
            client = session.client(service, **kwargs)
        if self.extra_headers:
            headers = dict(self.extra_headers)

            def add_headers(request: Any, **_: Any) -> None:
                for name, value in headers.items():
                    request.headers[name] = value

            client.meta.events.register_first("before-sign.*.*", add_headers)
        return client

    def shared_client(
        self,
        service: str,
        region: str | None = None,
        *,
        max_attempts: int = 3,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
    ) -> Any:
        """`client(...)` made once per process for the same credentials, endpoint, Region,
        service and settings, and shared (botocore clients are thread-safe).

        Creating a client costs 5-30 ms of CPU and a new connection; a loop that makes the
        same calls scenario after scenario spends most of its time there otherwise. Whoever
        gets a shared client must not register handlers on it: use `client` for that.
        """
        key = self.client_key(service, region, max_attempts, connect_timeout, read_timeout)
        return CLIENTS.get(
            key,
            lambda: self.client(
                service,
                region,
                max_attempts=max_attempts,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
            ),
        )

    def client_key(self, service: str, region: str | None, *settings: object) -> tuple[Any, ...]:
        """What makes two clients interchangeable: whom they sign as, where they go, and how."""
        return (
            self.profile,
            id(self.slot) if self.slot is not None else None,
            self.access_key_id,
            self.secret_access_key,
            self.session_token,
            self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL"),
            tuple(sorted(self.extra_headers.items())),
            service,
            region or self.resolved_region(),
            *_config_files(),
            *settings,
        )


def _config_files() -> tuple[str | None, str | None]:
    """Which files a profile name is read from: the same name in another credentials file is
    other credentials, so a session or client made for one is never reused for the other."""
    return os.environ.get("AWS_SHARED_CREDENTIALS_FILE"), os.environ.get("AWS_CONFIG_FILE")


class CredentialSlot:
    """Credentials that are re-issued in place, for an identity that is recreated again and
    again (`kmslab run`'s investigator role of an account: the lab reset before each scenario
    deletes the role, and a new session is issued for the new one).

    Clients made for a Target with this slot are made once and sign every request with the
    credentials the slot holds when it is signed: a new session costs `fill`, not a new set
    of clients (5-30 ms of CPU each and a new connection). Whoever fills the slot decides
    when the old credentials stop being used; calls in flight may be signed with either.
    """

    def __init__(self) -> None:
        self.credentials = _SlotCredentials()
        self._session: boto3.Session | None = None

    def fill(self, access_key_id: str, secret_access_key: str, session_token: str | None) -> None:
        self.credentials.fill(access_key_id, secret_access_key, session_token)

    @property
    def access_key_id(self) -> str:
        return str(self.credentials.get_frozen_credentials().access_key)

    def session(self) -> boto3.Session:
        with _LOCK:
            if self._session is None:
                core = _core_session(None)
                resolver = botocore.credentials.CredentialResolver([_SlotProvider(self)])
                core.register_component("credential_provider", resolver)
                self._session = boto3.Session(botocore_session=core)
                _LOADER.search_paths[:] = list(dict.fromkeys(_LOADER.search_paths))
            return self._session


class _SlotCredentials(botocore.credentials.Credentials):
    """botocore credentials whose keys change under a lock; the signer reads them frozen."""

    def __init__(self) -> None:
        super().__init__("", "", None, method="kmslab-slot")
        self._lock = threading.Lock()

    def fill(self, access_key_id: str, secret_access_key: str, session_token: str | None) -> None:
        with self._lock:
            self.access_key = access_key_id
            self.secret_key = secret_access_key
            self.token = session_token

    def get_frozen_credentials(self) -> botocore.credentials.ReadOnlyCredentials:
        with self._lock:
            return botocore.credentials.ReadOnlyCredentials(
                self.access_key, self.secret_key, self.token
            )


class _SlotProvider(botocore.credentials.CredentialProvider):
    METHOD = "kmslab-slot"

    def __init__(self, slot: CredentialSlot) -> None:
        super().__init__()
        self._slot = slot

    def load(self) -> botocore.credentials.Credentials:
        return self._slot.credentials


class ClientCache:
    """Clients by key, made once each (under a lock: two threads asking at once get one
    client) and dropped all at once past `limit` (issued credentials come and go)."""

    def __init__(self, limit: int = 512) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._clients: dict[tuple[Any, ...], Any] = {}

    def get(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                if len(self._clients) >= self._limit:
                    self._clients.clear()
                client = self._clients[key] = make()
            return client

    def drop(self, client: Any) -> None:
        """Forget `client`: the next `get` of its key makes a new one."""
        with self._lock:
            for key in [k for k, v in self._clients.items() if v is client]:
                del self._clients[key]

    def clear(self) -> None:
        with self._lock:
            self._clients.clear()


CLIENTS = ClientCache()
_LOCK = threading.RLock()
_SESSIONS: dict[tuple[str | None, ...], boto3.Session] = {}
_LOADER: Any = None
_MAX_SESSIONS = 256


def _profile_session(profile: str | None) -> boto3.Session:
    """The Session that makes clients with explicit credentials for `profile` (its
    configuration only: the credentials are the client's)."""
    return Target(profile=profile).session()


def _core_session(profile: str | None) -> botocore.session.Session:
    """A botocore Session with the shared data loader."""
    global _LOADER
    core = botocore.session.Session(profile=profile)
    if _LOADER is None:
        _LOADER = core.get_component("data_loader")
    else:
        core.register_component("data_loader", _LOADER)
    return core


def _new_session(target: Target) -> boto3.Session:
    """A Session whose botocore data loader is shared: a fresh loader re-parses botocore's
    endpoint and service files, ~70 ms a session, more than a whole investigation's calls."""
    core = _core_session(target.profile)
    try:
        session = boto3.Session(
            botocore_session=core,
            aws_access_key_id=target.access_key_id,
            aws_secret_access_key=target.secret_access_key,
            aws_session_token=target.session_token,
            region_name=target.region
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION"),
        )
        if target.profile and target.profile not in session.available_profiles:
            raise botocore.exceptions.ProfileNotFound(profile=target.profile)
    except botocore.exceptions.ProfileNotFound as exc:
        raise UsageError(f"AWS profile not found: {target.profile}") from exc
    # boto3 appends its data path to the loader once per session; keep the shared list short.
    _LOADER.search_paths[:] = list(dict.fromkeys(_LOADER.search_paths))
    return session


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(
        exc,
        botocore.exceptions.EndpointConnectionError
        | botocore.exceptions.ConnectTimeoutError
        | botocore.exceptions.ConnectionClosedError,
    )


@contextmanager
def endpoint_errors(what: str) -> Iterator[None]:
    """Turn unreachable-endpoint and missing-credential failures into one-line errors."""
    try:
        yield
    except (
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectTimeoutError,
        botocore.exceptions.ConnectionClosedError,
    ) as exc:
        raise EndpointError(f"{what}: endpoint unreachable ({exc})") from exc
    except botocore.exceptions.NoCredentialsError as exc:
        raise UsageError(
            f"{what}: no AWS credentials found (set a profile or AWS_* variables)"
        ) from exc


def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with endpoint_errors(getattr(fn, "__name__", "AWS call")):
        return fn(*args, **kwargs)
