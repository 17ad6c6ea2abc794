"""LabClient: the lab's admin routes (/_kmslab/health, reset, controls) over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from harness.errors import EndpointError, UsageError


class LabClient:
    def __init__(self, endpoint: str, timeout: float = 30.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, route: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.endpoint}/_kmslab/{route}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
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

    def get_controls(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "controls")
        return result
