"""The caller: its parsed ARN, its identity (GetCallerIdentity, GetRole/GetUser) and the
account that read the evidence."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from harness.aws import arns
from harness.diagnosis.facts.calls import BundleFacts, Call


class PrincipalFacts(BundleFacts):
    @cached_property
    def principal(self) -> arns.PrincipalArn:
        return arns.principal(self.principal_arn)

    @cached_property
    def caller_identity(self) -> dict[str, Any] | None:
        call = self.first("sts", "GetCallerIdentity")
        return call.response if call and call.ok else None

    def is_own_iam_call(self, call: Call) -> bool:
        """Whether an IAM call reads the principal itself: a bundle also holds GetRole/GetUser of
        the other principals its key policy names (step 5), in any account the investigator
        can read. Group and managed-policy reads are made for the principal only (step 4)."""
        if call.account not in (None, self.principal.account):
            return False
        for param, kinds in (("RoleName", ("role", "assumed-role")), ("UserName", ("user",))):
            if param in call.params:
                return self.principal.kind in kinds and call.params[param] == self.principal.name
        return True

    def _own_entity(self, operation: str, name: str) -> dict[str, Any] | None:
        for call in self.find("iam", operation):
            entity = (call.response or {}).get(name) if self.is_own_iam_call(call) else None
            if isinstance(entity, dict):
                return entity
        return None

    @cached_property
    def role(self) -> dict[str, Any] | None:
        return self._own_entity("GetRole", "Role")

    @cached_property
    def user(self) -> dict[str, Any] | None:
        return self._own_entity("GetUser", "User")

    @cached_property
    def identity_entity(self) -> dict[str, Any] | None:
        return self.role if self.principal.kind in ("role", "assumed-role") else self.user

    @cached_property
    def investigator_account(self) -> str:
        """The account whose credentials read the evidence (GetCallerIdentity), when recorded."""
        return str((self.caller_identity or {}).get("Account") or "")

    @property
    def principal_account(self) -> str:
        return self.principal.account

    @cached_property
    def role_arn(self) -> str | None:
        if self.role and self.role.get("Arn"):
            return str(self.role["Arn"])
        return self.principal.role_arn
