"""The request under investigation and what can be read from its principal ARN."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness.aws import arns
from harness.aws.arns import PrincipalArn
from harness.errors import UsageError


def parse_principal(arn: str) -> PrincipalArn:
    """The principal under investigation: an IAM or STS ARN (one line and exit 2 otherwise)."""
    if arns.iam_principal_arn(arn) is None:
        raise UsageError(
            f"principal is not an IAM or STS ARN: {arn!r} "
            "(expected arn:aws:iam::ACCOUNT:role/NAME, user/NAME or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)"
        )
    return arns.principal(arn)


@dataclass(frozen=True)
class KeyRef:
    """How the key was named: an id, an alias name, or a key or alias ARN."""

    given: str
    kind: str  # "key-id" | "alias" | "key-arn" | "alias-arn"
    account: str | None = None
    region: str | None = None


def parse_key(key: str) -> KeyRef:
    key = key.strip()
    if not key:
        raise UsageError("key is empty (give a key id, alias/NAME or an ARN)")
    arn = arns.kms_arn(key)
    if arn is not None and arn.region:
        kind = "key-arn" if arn.resource_type == "key" else "alias-arn"
        return KeyRef(key, kind, arn.account, arn.region)
    if key.startswith("arn:"):
        raise UsageError(f"key ARN is not a KMS key or alias ARN: {key!r}")
    if key.startswith("alias/"):
        return KeyRef(key, "alias")
    return KeyRef(key, "key-id")


@dataclass(frozen=True)
class InvestigationRequest:
    """The failing call to investigate (contract section 3 `request`, plus the agreed extensions)."""

    principal: str
    action: str
    key: str
    region: str | None = None
    encryption_context: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    observed_error: dict[str, str] | None = None
    grant_tokens: int = 0
    key_account: str | None = None
    ciphertext: dict[str, Any] | None = None
    # Contract 6: every action of the incident, `action` first; empty means just `action`.
    actions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        parse_principal(self.principal)
        parse_key(self.key)
        for action in (self.action, *self.actions):
            if not re.match(r"^[a-z0-9-]+:[A-Za-z0-9*]+$", action):
                raise UsageError(f"action must look like kms:Decrypt, got {action!r}")
        if self.actions and self.actions[0] != self.action:
            raise UsageError("actions must start with action (the first --action)")
        if self.key_account is not None and not arns.is_account_id(self.key_account):
            raise UsageError(f"key_account must be a 12-digit account id, got {self.key_account!r}")
        if self.grant_tokens < 0:
            raise UsageError("grant_tokens must be a count, not negative")
        if self.ciphertext is not None and set(self.ciphertext) - {"length", "kms_blob"}:
            raise UsageError("ciphertext facts are only length and kms_blob, never the bytes")

    @property
    def parsed_principal(self) -> PrincipalArn:
        return parse_principal(self.principal)

    @property
    def key_ref(self) -> KeyRef:
        return parse_key(self.key)

    def to_dict(self, region: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "principal": self.principal,
            "action": self.action,
            "key": self.key,
            "region": region,
        }
        if len(self.actions) > 1:
            out["actions"] = list(self.actions)
        if self.encryption_context:
            out["encryption_context"] = dict(self.encryption_context)
        if self.context:
            out["context"] = dict(self.context)
        if self.observed_error:
            out["observed_error"] = dict(self.observed_error)
        if self.grant_tokens:
            out["grant_tokens"] = self.grant_tokens
        if self.key_account:
            out["key_account"] = self.key_account
        if self.ciphertext is not None:
            out["ciphertext"] = dict(self.ciphertext)
        return out
