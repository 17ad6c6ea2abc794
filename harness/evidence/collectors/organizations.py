"""Beyond the Playbook steps: the SCPs and RCPs on the account's path, when readable.

SCPs limit principals, so they are read on the principal's account path; RCPs limit
resources, so on the key account's path. Neither applies to the management account
(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html,
.../orgs_manage_policies_rcps.html), whose path is therefore not walked. Organizations is
readable only from the management account or a delegated administrator; anywhere else
the first refusal is recorded and the walk stops.
"""

from __future__ import annotations

from typing import Any

from harness.aws.operations import ORGANIZATIONS_POLICY_READS
from harness.aws.organizations import RCP, SCP
from harness.evidence.calls import Credentials
from harness.evidence.investigation import Investigation
from harness.evidence.registry import collector

MAX_DEPTH = 7  # root + up to five nested OUs + the account


@collector(
    "organization_policies",
    step="+",
    permissions=ORGANIZATIONS_POLICY_READS,
)
def organization_policies(inv: Investigation) -> None:
    """DescribeOrganization, then each level's SCPs and RCPs from the root to the account."""
    creds = inv.investigator
    org = inv.call(creds, "organizations", "DescribeOrganization", inv.global_region)
    if not org:
        return
    management = (org.get("Organization") or {}).get("MasterAccountId")
    wanted: dict[str, list[str]] = {}
    if inv.principal.account != management:
        wanted.setdefault(inv.principal.account, []).append(SCP)
    key_account = inv.key_account or inv.principal.account
    if key_account != management:
        wanted.setdefault(key_account, []).append(RCP)
    paths = inv.parallel(lambda account: _path(inv, creds, account), list(wanted))
    jobs: list[tuple[str, str]] = []
    for (_account, types), path in zip(wanted.items(), paths, strict=True):
        for target in path or []:
            jobs.extend((target, policy_type) for policy_type in types)
    listed = inv.parallel(
        lambda job: inv.call(
            creds,
            "organizations",
            "ListPoliciesForTarget",
            inv.global_region,
            {"TargetId": job[0], "Filter": job[1]},
            paginate=True,
        ),
        list(dict.fromkeys(jobs)),
    )
    policy_ids = {
        policy["Id"]
        for response in listed
        for policy in (response or {}).get("Policies", [])
        if isinstance(policy, dict) and isinstance(policy.get("Id"), str)
    }
    inv.parallel(
        lambda pid: inv.call(
            creds, "organizations", "DescribePolicy", inv.global_region, {"PolicyId": pid}
        ),
        sorted(policy_ids),
    )


def _path(inv: Investigation, creds: Credentials, account: str) -> list[str]:
    """The targets from the account up to the root (ListParents repeatedly)."""
    path = [account]
    child = account
    for _ in range(MAX_DEPTH):
        response: dict[str, Any] | None = inv.call(
            creds,
            "organizations",
            "ListParents",
            inv.global_region,
            {"ChildId": child},
            paginate=True,
        )
        parents = (response or {}).get("Parents") or []
        if not parents or not isinstance(parents[0], dict) or not parents[0].get("Id"):
            return path if response else []
        child = str(parents[0]["Id"])
        path.append(child)
        if parents[0].get("Type") == "ROOT":
            break
    return path
