"""The caller's IAM policies: inline and attached, of the principal and its groups, and its
permissions boundary (read through GetPolicy/GetPolicyVersion)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from harness.diagnosis.facts.calls import Call, parse_policy
from harness.diagnosis.facts.principal import PrincipalFacts


class IamFacts(PrincipalFacts):
    def _policy_version_doc(self, policy_arn: str) -> dict[str, Any] | bool | None:
        """The default version's document; False when it could not be read."""
        version_id = None
        for call in self.find("iam", "GetPolicy"):
            if call.params.get("PolicyArn") == policy_arn:
                if not call.ok:
                    return False
                version_id = ((call.response or {}).get("Policy") or {}).get("DefaultVersionId")
        for call in self.find("iam", "GetPolicyVersion"):
            if call.params.get("PolicyArn") != policy_arn:
                continue
            if version_id and call.params.get("VersionId") not in (None, version_id):
                continue
            if not call.ok:
                return False
            return parse_policy(((call.response or {}).get("PolicyVersion") or {}).get("Document"))
        return False

    @cached_property
    def identity_policies(self) -> list[tuple[str, dict[str, Any]]]:
        """(name, document) of every inline and attached policy of the principal and its groups."""
        return [(name, doc) for name, doc, _ in self.identity_policy_sources]

    @cached_property
    def identity_policy_sources(self) -> list[tuple[str, dict[str, Any], str]]:
        """(name, document, the call that read it) of every identity policy."""
        out: list[tuple[str, dict[str, Any], str]] = []
        for op in ("GetRolePolicy", "GetUserPolicy", "GetGroupPolicy"):
            for call in self.find("iam", op):
                if call.ok:
                    doc = parse_policy((call.response or {}).get("PolicyDocument"))
                    if doc is not None:
                        name = (call.response or {}).get("PolicyName") or call.params.get(
                            "PolicyName"
                        )
                        out.append((f"inline:{name}", doc, f"iam:{op}"))
        for op in (
            "ListAttachedRolePolicies",
            "ListAttachedUserPolicies",
            "ListAttachedGroupPolicies",
        ):
            for call in self.find("iam", op):
                for att in (call.response or {}).get("AttachedPolicies") or []:
                    arn = att.get("PolicyArn") if isinstance(att, dict) else None
                    if not arn or arn == self.boundary_arn:
                        continue
                    version = self._policy_version_doc(arn)
                    if isinstance(version, dict):
                        out.append((str(arn), version, "iam:GetPolicyVersion"))
        return out

    @cached_property
    def identity_unreadable(self) -> list[Call]:
        """The principal's own IAM reads that failed (not those of other key-policy principals)."""
        return [c for c in self.failed_reads if c.service == "iam" and self.is_own_iam_call(c)]

    @cached_property
    def identity_collected(self) -> bool:
        return any(c.service == "iam" for c in self.calls)

    @cached_property
    def boundary_arn(self) -> str | None:
        entity = self.identity_entity or {}
        pb = entity.get("PermissionsBoundary") or {}
        arn = pb.get("PermissionsBoundaryArn") if isinstance(pb, dict) else None
        return str(arn) if arn else None

    @cached_property
    def boundary(self) -> dict[str, Any] | bool | None:
        """The boundary document, None without a boundary, False when it could not be read."""
        if not self.boundary_arn:
            return None
        return self._policy_version_doc(self.boundary_arn)
