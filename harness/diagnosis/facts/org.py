"""The organization: DescribeOrganization, the chain of parents from an account to the root,
and the SCPs or RCPs attached at each level."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from harness.diagnosis.facts.calls import BundleFacts, parse_policy


class OrgFacts(BundleFacts):
    @cached_property
    def organization(self) -> dict[str, Any] | None:
        call = self.first("organizations", "DescribeOrganization")
        org = (call.response or {}).get("Organization") if call and call.ok else None
        return org if isinstance(org, dict) else None

    @cached_property
    def org_not_in_use(self) -> bool:
        call = self.first("organizations", "DescribeOrganization")
        return bool(call and call.error_code == "AWSOrganizationsNotInUseException")

    def org_chain(self, account: str) -> list[str]:
        """The account and its parents up to the root, as ListParents read them."""
        parents: dict[str, str] = {}
        for call in self.find("organizations", "ListParents"):
            for p in (call.response or {}).get("Parents") or []:
                if isinstance(p, dict) and p.get("Id"):
                    parents[str(call.params.get("ChildId"))] = str(p["Id"])
        chain = [account]
        while chain[-1] in parents and len(chain) < 10:
            chain.append(parents[chain[-1]])
        return chain

    def org_levels(
        self, account: str, policy_type: str
    ) -> list[list[tuple[str, dict[str, Any]]]] | None:
        """Policies per level from the root down to the account, or None when not all readable."""
        chain = self.org_chain(account)
        if len(chain) == 1:
            return None
        contents: dict[str, dict[str, Any]] = {}
        for call in self.find("organizations", "DescribePolicy"):
            pol = (call.response or {}).get("Policy") or {}
            doc = parse_policy(pol.get("Content"))
            pid = call.params.get("PolicyId") or (pol.get("PolicySummary") or {}).get("Id")
            if doc is not None and pid:
                contents[str(pid)] = doc
        levels: list[list[tuple[str, dict[str, Any]]]] = []
        for target in reversed(chain):
            calls = [
                c
                for c in self.find("organizations", "ListPoliciesForTarget")
                if c.params.get("TargetId") == target
                and c.params.get("Filter") == policy_type
                and c.ok
            ]
            if not calls:
                return None
            level = []
            for pol in (calls[0].response or {}).get("Policies") or []:
                pid = pol.get("Id") if isinstance(pol, dict) else None
                if pid not in contents:
                    return None
                level.append((f"{pol.get('Name') or pid} ({target})", contents[pid]))
            levels.append(level)
        return levels
