"""The organization: the lab organization, its SCPs and RCPs and where they are attached."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

from botocore.exceptions import ClientError

from harness.scenarios import org_units
from harness.scenarios.native.base import ProvisionerBase
from harness.scenarios.refs import ResolvedRefs, substitute


class OrgProvisioning(ProvisionerBase):
    def _management(self, after: dict[str, Any]) -> str:
        return os.environ.get("KMSLAB_ORG_MANAGEMENT_ACCOUNT", "111111111111")

    def _org(self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs) -> None:
        org = after["organization"]
        needs = org["scps"] or org["rcps"] or org.get("units") or org.get("detached")
        needs = needs or "${org." in json.dumps(after)
        if not needs or resolved.org:
            return
        orgs = self.client("organizations", self._management(after), after["region"])
        try:
            desc = orgs.describe_organization()["Organization"]
        except orgs.exceptions.AWSOrganizationsNotInUseException:
            desc = orgs.create_organization(FeatureSet="ALL")["Organization"]
        roots = orgs.list_roots()["Roots"]
        resolved.org = {"id": desc["Id"], "root": roots[0]["Id"]}
        for policy_type in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
            enabled = {
                p["Type"] for p in roots[0].get("PolicyTypes", []) if p["Status"] == "ENABLED"
            }
            if policy_type not in enabled:
                # Some upstreams enable every type without listing it; enabling twice fails there.
                with contextlib.suppress(ClientError):
                    orgs.enable_policy_type(RootId=roots[0]["Id"], PolicyType=policy_type)
        known = set()
        for page in orgs.get_paginator("list_accounts").paginate():
            known |= {a["Id"] for a in page["Accounts"]}
        # Accounts that SCPs or RCPs target join the organization so the policies reach them;
        # the others stay where they are, so a partner outside the organization stays outside.
        targets = {p["target"] for p in org["scps"] + org["rcps"]}
        for name, account_id in after["accounts"].items():
            if account_id not in known and name in targets:
                with contextlib.suppress(ClientError):
                    orgs.invite_account_to_organization(
                        Target={"Id": account_id, "Type": "ACCOUNT"}
                    )

    def _org_policies(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        kinds = (("scps", "SERVICE_CONTROL_POLICY"), ("rcps", "RESOURCE_CONTROL_POLICY"))
        for section, policy_type in kinds:
            old = {p["name"]: p for p in before["organization"][section]}
            new = {p["name"]: p for p in after["organization"][section]}
            if not old and not new:
                continue
            orgs = self.client("organizations", self._management(after), after["region"])
            for name, spec in new.items():
                doc = json.dumps(substitute(spec["document"], resolved))
                ref = f"{section}_{name}"
                if name not in old:
                    policy_id = orgs.create_policy(
                        Name=f"kmslab-{name}", Description="kmslab", Type=policy_type, Content=doc
                    )["Policy"]["PolicySummary"]["Id"]
                    target = self._org_target(spec["target"], after, resolved)
                    orgs.attach_policy(PolicyId=policy_id, TargetId=target)
                    resolved.org[ref] = policy_id
                elif old[name] != spec:
                    orgs.update_policy(PolicyId=resolved.org[ref], Content=doc)
            for name, spec in old.items():
                if name not in new:
                    ref = f"{section}_{name}"
                    target = self._org_target(spec["target"], before, resolved)
                    orgs.detach_policy(PolicyId=resolved.org[ref], TargetId=target)
                    orgs.delete_policy(PolicyId=resolved.org[ref])

    def _org_target(self, target: str, setup: dict[str, Any], resolved: ResolvedRefs) -> str:
        if target == "root":
            return resolved.org["root"]
        if org_units.unit_ref(target) in resolved.org:
            return resolved.org[org_units.unit_ref(target)]
        return str(setup["accounts"].get(target, target))
