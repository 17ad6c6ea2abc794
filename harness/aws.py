"""boto3 sessions and clients that behave like the AWS CLI's options.

`--endpoint-url`, `--region`, `--profile` and the standard environment variables
(`AWS_ENDPOINT_URL`, `AWS_PROFILE`, `AWS_REGION`, `AWS_DEFAULT_REGION`) resolve the
same way the AWS CLI resolves them. Nothing here knows about the lab.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import boto3
import botocore.config
import botocore.exceptions

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

    def resolved_region(self) -> str:
        return (
            self.region
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or self._profile_region()
            or DEFAULT_REGION
        )

    def _profile_region(self) -> str | None:
        try:
            return boto3.Session(profile_name=self.profile).region_name
        except botocore.exceptions.ProfileNotFound:
            return None

    def session(self) -> boto3.Session:
        try:
            return boto3.Session(
                profile_name=self.profile,
                aws_access_key_id=self.access_key_id,
                aws_secret_access_key=self.secret_access_key,
                aws_session_token=self.session_token,
                region_name=self.resolved_region(),
            )
        except botocore.exceptions.ProfileNotFound as exc:
            raise UsageError(f"AWS profile not found: {self.profile}") from exc

    def client(
        self,
        service: str,
        region: str | None = None,
        *,
        retries: int = 3,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
    ) -> Any:
        """A boto3 client with adaptive retries; endpoint from the option or the environment."""
        config = botocore.config.Config(
            retries={"mode": "adaptive", "max_attempts": retries},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        kwargs: dict[str, Any] = {"region_name": region or self.resolved_region(), "config": config}
        endpoint = self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        client = self.session().client(service, **kwargs)
        if self.extra_headers:
            headers = dict(self.extra_headers)

            def add_headers(request: Any, **_: Any) -> None:
                for name, value in headers.items():
                    request.headers[name] = value

            client.meta.events.register_first("before-sign.*.*", add_headers)
        return client


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
