"""The KMS key: DescribeKey, its ARN and account, the key policy, aliases, grants, custom key
store and the same key read in other Regions. The ARN falls back to the caller's failing
CloudTrail events when DescribeKey was not read."""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from harness.aws import arns
from harness.diagnosis.facts.calls import Call, parse_policy
from harness.diagnosis.facts.trail import TrailFacts


class KeyFacts(TrailFacts):
    @cached_property
    def describe_key_call(self) -> Call | None:
        return self.first("kms", "DescribeKey", self.region)

    @cached_property
    def key_metadata(self) -> dict[str, Any] | None:
        call = self.describe_key_call
        md = call.response.get("KeyMetadata") if call and call.response else None
        return md if isinstance(md, dict) else None

    @cached_property
    def key_arn(self) -> str:
        if self.key_metadata and self.key_metadata.get("Arn"):
            return str(self.key_metadata["Arn"])
        parsed = arns.parse(self.request_key)
        if parsed and parsed.resource.startswith("key/"):
            return self.request_key
        for event in self.failing_events:
            for res in event.get("resources") or []:
                if isinstance(res, dict) and ":key/" in str(res.get("ARN", "")):
                    return str(res["ARN"])
        return ""

    @cached_property
    def key_id(self) -> str:
        if self.key_metadata and self.key_metadata.get("KeyId"):
            return str(self.key_metadata["KeyId"])
        arn = arns.parse(self.key_arn)
        if arn:
            return arn.resource_id
        return self.request_key

    @property
    def key_ref(self) -> str:
        """How fixes name the key: its ARN when known, else what the caller passed."""
        return self.key_arn or self.request_key or "<key-arn>"

    @cached_property
    def key_account(self) -> str:
        for cand in (self.key_arn, self.request_key):
            acct = arns.account_of(cand)
            if acct:
                return acct
        if self.key_metadata and self.key_metadata.get("AWSAccountId"):
            return str(self.key_metadata["AWSAccountId"])
        explicit = self.request.get("key_account")
        if isinstance(explicit, str) and explicit:
            return explicit
        return self.principal_account

    @property
    def cross_account(self) -> bool:
        return bool(self.principal_account) and self.key_account != self.principal_account

    @cached_property
    def key_policy_call(self) -> Call | None:
        return self.first("kms", "GetKeyPolicy", self.region)

    @cached_property
    def key_policy_text(self) -> str | None:
        call = self.key_policy_call
        pol = call.response.get("Policy") if call and call.response else None
        if isinstance(pol, dict):
            return json.dumps(pol)
        return pol if isinstance(pol, str) else None

    @cached_property
    def key_policy(self) -> dict[str, Any] | None:
        return parse_policy(self.key_policy_text)

    @cached_property
    def aliases(self) -> list[dict[str, Any]]:
        """Aliases of the caller's account and region (ListAliases without KeyId preferred)."""
        calls = [c for c in self.find("kms", "ListAliases", self.region) if c.ok]
        calls.sort(key=lambda c: "KeyId" in c.params)
        out: list[dict[str, Any]] = []
        seen = set()
        for call in calls:
            for alias in (call.response or {}).get("Aliases") or []:
                if isinstance(alias, dict) and alias.get("AliasName") not in seen:
                    seen.add(alias.get("AliasName"))
                    out.append(alias)
        return out

    @cached_property
    def aliases_complete(self) -> bool:
        """True when an account-wide ListAliases (no KeyId filter) was read."""
        return any(
            c.ok and "KeyId" not in c.params for c in self.find("kms", "ListAliases", self.region)
        )

    @cached_property
    def grants(self) -> list[dict[str, Any]] | None:
        call = self.first("kms", "ListGrants", self.region)
        if not call or not call.ok:
            return None
        grants = (call.response or {}).get("Grants") or []
        return [g for g in grants if isinstance(g, dict)]

    @cached_property
    def custom_key_store(self) -> dict[str, Any] | None:
        store_id = (self.key_metadata or {}).get("CustomKeyStoreId")
        for call in self.find("kms", "DescribeCustomKeyStores"):
            for store in (call.response or {}).get("CustomKeyStores") or []:
                if isinstance(store, dict) and (
                    not store_id or store.get("CustomKeyStoreId") == store_id
                ):
                    return store
        return None

    def replica(self, region: str) -> dict[str, Any]:
        """DescribeKey, key policy and grants recorded for the same key in another region."""
        out: dict[str, Any] = {}
        dk = self.first("kms", "DescribeKey", region)
        if dk:
            out["describe"] = dk
        gkp = self.first("kms", "GetKeyPolicy", region)
        if gkp:
            out["policy"] = gkp
        lg = self.first("kms", "ListGrants", region)
        if lg:
            out["grants"] = lg
        return out

    @cached_property
    def other_regions(self) -> list[str]:
        return sorted(
            {c.region for c in self.find("kms", "DescribeKey") if c.region != self.region}
        )
