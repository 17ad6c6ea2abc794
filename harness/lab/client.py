"""LabClient: the lab's admin routes (/_kmslab/health, reset, controls) over HTTP.

Admin requests are signed with SigV4 as account 111111111111's operator, with the secret
`harness.lab.operator.operator_credentials` finds for the endpoint (room mode included), or
carry `X-Kmslab-Token` when a token is given."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from harness.errors import EndpointError, UsageError
from harness.lab.authn import TOKEN_HEADER
from harness.lab.operator import operator_credentials


class LabClient:
    def __init__(self, endpoint: str, timeout: float = 30.0, token: str | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.token = token

    def _headers(self, method: str, url: str, data: bytes | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.token is not None:
            headers[TOKEN_HEADER] = self.token
            return headers
        creds = operator_credentials(self.endpoint)
        signable = botocore.awsrequest.AWSRequest(
            method=method, url=url, data=data or b"", headers=headers
        )
        botocore.auth.SigV4Auth(
            botocore.credentials.Credentials(creds.access_key_id, creds.secret_access_key),
            "kmslab",
            "us-east-1",
        ).add_auth(signable)
        return dict(signable.headers.items())

    def _call(self, method: str, route: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        url = f"{self.endpoint}/_kmslab/{route}"
        request = urllib.request.Request(
            url, data=data, method=method, headers=self._headers(method, url, data)
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                detail = exc.reason
            if exc.code == 400:
                raise UsageError(str(detail)) from exc
            raise EndpointError(f"lab at {self.endpoint}: HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise EndpointError(f"lab at {self.endpoint} is unreachable: {reason}") from exc

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "health")
        return result

    def reset(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "reset", {})
        return result

    def set_controls(self, controls: dict[str, Any]) -> dict[str, Any]:
        """Merge `controls` into the lab's controls; returns the controls now in force."""
        result: dict[str, Any] = self._call("POST", "controls", controls)
        return result

    def replace_controls(self, controls: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PUT", "controls", controls)
        return result

    def publish_room(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        """Push a workshop room's snapshot for the facilitator's page (`/_kmslab/room`)."""
        result: dict[str, Any] = self._call("POST", "room", snapshot)
        return result

    def get_controls(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "controls")
        return result

    def state(self) -> dict[str, Any]:
        """The lab's whole state document (harness/lab/state.py)."""
        result: dict[str, Any] = self._call("GET", "state")
        return result

    def put_section(self, name: str, value: Any) -> None:
        """Keep `value` (JSON) under `name` in the lab's saved state."""
        self._call("PUT", f"state/sections/{name}", value)

    def get_section(self, name: str) -> Any:
        return self._call("GET", f"state/sections/{name}")
