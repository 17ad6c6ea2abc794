"""Grants."""

from __future__ import annotations

from typing import Any

from harness.scenarios.native.base import ProvisionerBase
from harness.scenarios.refs import ResolvedRefs, substitute


class GrantProvisioning(ProvisionerBase):
    def grantee(self, value: str, resolved: ResolvedRefs) -> str:
        if value in resolved.principal:
            return resolved.principal[value]["arn"]
        return str(substitute(value, resolved))

    def _grants(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        old = {g["name"]: g for g in before["grants"]}
        new = {g["name"]: g for g in after["grants"]}
        for name, spec in old.items():
            if name not in new or new[name] != spec:
                key = resolved.key[spec["key"]]
                account_id = after["accounts"].get(spec["account"], key["account"])
                kms = self.client("kms", account_id, key["region"])
                kms.revoke_grant(KeyId=key["arn"], GrantId=resolved.grant[name]["id"])
        for name, spec in new.items():
            if name in old and old[name] == spec:
                continue
            key = resolved.key[spec["key"]]
            account_id = after["accounts"].get(spec["account"], key["account"])
            kms = self.client("kms", account_id, key["region"])
            params: dict[str, Any] = {
                "KeyId": key["arn"],
                "GranteePrincipal": self.grantee(spec["grantee"], resolved),
                "Operations": spec["operations"],
                "Name": f"kmslab-{name}",
            }
            if spec.get("constraints"):
                params["Constraints"] = spec["constraints"]
            if spec.get("retiring_principal"):
                params["RetiringPrincipal"] = self.grantee(spec["retiring_principal"], resolved)
            created = kms.create_grant(**params)
            resolved.grant[name] = {"id": created["GrantId"], "token": created["GrantToken"]}
