"""Organizational units and detached full-access policies of a setup (native provisioning).

A scenario rebuilt from a bundle places accounts where the bundle's ListParents showed them
and detaches FullAWSAccess / RCPFullAWSAccess where a level lacked it (an allow-list
strategy, orgs_manage_policies_scps.html), so SCP and RCP levels evaluate as they did.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from harness.aws.organizations import FULL_ACCESS_NAME
from harness.scenarios.refs import ResolvedRefs

if TYPE_CHECKING:
    from harness.scenarios.native import NativeProvisioner

# The AWS managed full-access policies by name, to their policy type.
POLICY_TYPE = {name: policy_type for policy_type, name in FULL_ACCESS_NAME.items()}


def unit_ref(name: str) -> str:
    return f"ou_{name}"


def build_units(
    p: NativeProvisioner, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
) -> None:
    units: dict[str, Any] = after["organization"].get("units") or {}
    old = before["organization"].get("units") or {}
    if not units or units == old:
        return
    orgs = p.client("organizations", p._management(after), after["region"])
    pending = [n for n in units if unit_ref(n) not in resolved.org]
    while pending:  # parents first; a unit whose parent is unknown is created under the root
        progressed = False
        for name in list(pending):
            parent = units[name].get("parent", "root")
            if parent != "root" and parent in pending:
                continue
            parent_id = resolved.org["root"] if parent == "root" else resolved.org[unit_ref(parent)]
            created = orgs.create_organizational_unit(ParentId=parent_id, Name=name)
            resolved.org[unit_ref(name)] = created["OrganizationalUnit"]["Id"]
            pending.remove(name)
            progressed = True
        if not progressed:
            for name in pending:
                units[name]["parent"] = "root"
    for name, unit in units.items():
        for account in unit.get("accounts", []):
            account_id = after["accounts"][account]
            with contextlib.suppress(ClientError):
                orgs.invite_account_to_organization(Target={"Id": account_id, "Type": "ACCOUNT"})
            current = orgs.list_parents(ChildId=account_id)["Parents"][0]["Id"]
            if current != resolved.org[unit_ref(name)]:
                orgs.move_account(
                    AccountId=account_id,
                    SourceParentId=current,
                    DestinationParentId=resolved.org[unit_ref(name)],
                )


def detach_full_access(
    p: NativeProvisioner, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
) -> None:
    wanted = after["organization"].get("detached") or []
    done = before["organization"].get("detached") or []
    orgs = None
    for item in wanted:
        if item in done:
            continue
        orgs = orgs or p.client("organizations", p._management(after), after["region"])
        listed = orgs.list_policies(Filter=POLICY_TYPE[item["policy"]])["Policies"]
        policy_id = next(x["Id"] for x in listed if x["Name"] == item["policy"])
        target = p._org_target(item["target"], after, resolved)
        if item["target"] in after["accounts"]:
            with contextlib.suppress(ClientError):
                orgs.invite_account_to_organization(Target={"Id": target, "Type": "ACCOUNT"})
        orgs.detach_policy(PolicyId=policy_id, TargetId=target)
