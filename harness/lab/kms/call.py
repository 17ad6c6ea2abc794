"""One KMS call as the lab handles it, and the hooks the KMS model calls back into."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.lab.errors import AwsError
from harness.lab.identity import LabPrincipal


@dataclass
class KmsCall:
    principal: LabPrincipal
    region: str
    operation: str
    params: dict[str, Any]
    via_service: str | None = None
    source_vpce: str | None = None
    request_id: str = ""
    # filled while handling, read by CloudTrail
    resources: list[str] = field(default_factory=list)
    key_account: str | None = None
    additional: dict[str, Any] = field(default_factory=dict)
    # the IAM actions the one authorization step allowed (KmsService.authorize)
    authorized: list[str] = field(default_factory=list)

    def blob(self, name: str, required: bool = True) -> bytes:
        value = self.params.get(name)
        if value is None:
            if required:
                raise AwsError(
                    "ValidationException",
                    f"1 validation error detected: Value null at '{name[0].lower() + name[1:]}' "
                    "failed to satisfy constraint: Member must not be null",
                )
            return b""
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise AwsError("SerializationException", f"Invalid base64 in {name}") from exc

    def context(self, name: str = "EncryptionContext") -> dict[str, str]:
        value = self.params.get(name) or {}
        if not isinstance(value, dict):
            raise AwsError("SerializationException", f"{name} must be a map")
        return {str(k): str(v) for k, v in value.items()}


class Authorizer(Protocol):
    def __call__(
        self, call: KmsCall, key: Any, action: str, context: dict[str, Any], *, by_ciphertext: bool
    ) -> None: ...

    def lockout_allows(self, principal: LabPrincipal, policy: dict[str, Any], key_arn: str) -> bool:
        """Whether `principal` could call PutKeyPolicy on `key_arn` under `policy`."""
        ...


PrincipalCheck = Callable[[str], bool]
ServiceEvent = Callable[[Any, str, dict[str, Any]], None]
