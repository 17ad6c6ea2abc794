"""Aliases."""

from __future__ import annotations

from typing import Any

from harness.scenarios.native.base import ProvisionerBase
from harness.scenarios.refs import ResolvedRefs


class AliasProvisioning(ProvisionerBase):
    def _aliases(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        # An alias name is unique per account and Region only: the same name may exist in
        # several accounts (catalog row 14), so an alias is (name, account, Region).
        def where(aliases: list[dict[str, Any]]) -> dict[tuple[str, str, str], str]:
            out = {}
            for a in aliases:
                key = resolved.key[a["key"]]
                out[(resolved.key_ref(a["name"]), key["account"], key["region"])] = a["key"]
            return out

        old, new = where(before["aliases"]), where(after["aliases"])
        for (alias, account, region), key_name in new.items():
            key = resolved.key[key_name]
            kms = self.client("kms", account, region)
            if (alias, account, region) not in old:
                kms.create_alias(AliasName=alias, TargetKeyId=key["id"])
            elif old[(alias, account, region)] != key_name:
                kms.update_alias(AliasName=alias, TargetKeyId=key["id"])
            short = alias.removeprefix("alias/").removeprefix(self.prefix)
            resolved.alias[short.replace("-", "_").replace("/", "_")] = {
                "arn": f"arn:aws:kms:{key['region']}:{key['account']}:{alias}",
                "name": alias,
            }
        for alias, account, region in old:
            if (alias, account, region) not in new:
                self.client("kms", account, region).delete_alias(AliasName=alias)
