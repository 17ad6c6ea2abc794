"""The lab organization (Organizations API): accounts, OUs, SCPs and RCPs.

Neither LocalStack community nor moto can place fixed account ids in an organization, so
the lab keeps the organization itself. Management account 111111111111; members
222222222222 and 333333333333; both policy types are enabled with the AWS managed
FullAWSAccess / RCPFullAWSAccess attached everywhere, as AWS attaches them on enabling.
The policy operations (SCP/RCP documents, attachments, tags) live in orgpolicies.py.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from harness.aws.organizations import (
    FULL_ACCESS_DOCUMENT,
    FULL_ACCESS_NAME,
    RCP,
    SCP,
)
from harness.lab.errors import AwsError
from harness.lab.orgpolicies import MANAGEMENT, NO_ACCESS, OrgPolicy, PolicyOperations, _rand

__all__ = ["MANAGEMENT", "MEMBERS", "NO_ACCESS", "OrgPolicy", "Organization"]

MEMBERS = ("222222222222", "333333333333")


class Organization(PolicyOperations):
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.org_id = "o-" + _rand(10)
            self.root_id = "r-" + _rand(4)
            self.accounts: dict[str, dict[str, Any]] = {}
            self.parent: dict[str, str] = {}
            self.ous: dict[str, dict[str, Any]] = {}
            self.enabled = {SCP, RCP}
            self.policies: dict[str, OrgPolicy] = {
                "p-FullAWSAccess": OrgPolicy(
                    "p-FullAWSAccess",
                    FULL_ACCESS_NAME[SCP],
                    SCP,
                    json.dumps(FULL_ACCESS_DOCUMENT[SCP]),
                    "Allows access to every operation",
                    True,
                ),
                "p-RCPFullAWSAccess": OrgPolicy(
                    "p-RCPFullAWSAccess",
                    FULL_ACCESS_NAME[RCP],
                    RCP,
                    json.dumps(FULL_ACCESS_DOCUMENT[RCP]),
                    "Allows access to every resource",
                    True,
                ),
            }
            for pol in self.policies.values():
                pol.targets.add(self.root_id)
            for account in (MANAGEMENT, *MEMBERS):
                self.join(account)

    def join(self, account: str) -> None:
        with self.lock:
            self.accounts[account] = {
                "Id": account,
                "Arn": f"arn:aws:organizations::{MANAGEMENT}:account/{self.org_id}/{account}",
                "Email": f"lab+{account}@example.com",
                "Name": "management" if account == MANAGEMENT else f"lab-{account}",
                "Status": "ACTIVE",
                "State": "ACTIVE",
                "JoinedMethod": "CREATED" if account == MANAGEMENT else "INVITED",
                "JoinedTimestamp": time.time(),
            }
            self.parent[account] = self.root_id
            for pol in self.policies.values():
                if pol.aws_managed:
                    pol.targets.add(account)

    # what authorization needs -------------------------------------------------------------
    def member(self, account: str) -> bool:
        return account in self.accounts

    def path(self, account: str) -> list[str]:
        """Targets from the root down to the account."""
        chain = [account]
        node = account
        while node in self.parent:
            node = self.parent[node]
            chain.append(node)
        return list(reversed(chain))

    def levels(self, account: str, ptype: str) -> list[list[Any]]:
        """Policy documents per level, root to account; [] when they do not apply."""
        with self.lock:
            if account not in self.accounts or account == MANAGEMENT or ptype not in self.enabled:
                return []
            return [
                [
                    json.loads(p.content)
                    for p in self.policies.values()
                    if p.ptype == ptype and target in p.targets
                ]
                for target in self.path(account)
            ]

    def org_paths(self, account: str) -> str:
        return f"{self.org_id}/" + "/".join(self.path(account)[:-1]) + "/"

    # API -------------------------------------------------------------------------------------
    def handle(self, account: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "CreateOrganization":
            if account in self.accounts:
                raise AwsError(
                    "AlreadyInOrganizationException",
                    "The AWS account is already a member of an organization.",
                )
            raise AwsError("AccessDeniedException", NO_ACCESS)
        if account not in self.accounts:
            raise AwsError(
                "AWSOrganizationsNotInUseException",
                "Your account is not a member of an organization.",
            )
        if operation == "DescribeOrganization":
            return {"Organization": self.describe()}
        if account != MANAGEMENT:
            raise AwsError("AccessDeniedException", NO_ACCESS)
        handler = getattr(self, f"op_{operation}", None)
        if handler is None:
            raise AwsError(
                "UnknownOperationException", f"The lab does not implement organizations:{operation}"
            )
        with self.lock:
            result: dict[str, Any] = handler(params)
            return result

    def describe(self) -> dict[str, Any]:
        return {
            "Id": self.org_id,
            "Arn": f"arn:aws:organizations::{MANAGEMENT}:organization/{self.org_id}",
            "FeatureSet": "ALL",
            "MasterAccountArn": self.accounts[MANAGEMENT]["Arn"],
            "MasterAccountId": MANAGEMENT,
            "MasterAccountEmail": self.accounts[MANAGEMENT]["Email"],
            "AvailablePolicyTypes": [
                {"Type": t, "Status": "ENABLED"} for t in sorted(self.enabled)
            ],
        }

    def _root(self) -> dict[str, Any]:
        return {
            "Id": self.root_id,
            "Arn": f"arn:aws:organizations::{MANAGEMENT}:root/{self.org_id}/{self.root_id}",
            "Name": "Root",
            "PolicyTypes": [{"Type": t, "Status": "ENABLED"} for t in sorted(self.enabled)],
        }

    def _target(self, target: Any) -> str:
        if target == self.root_id or target in self.ous or target in self.accounts:
            return str(target)
        raise AwsError("TargetNotFoundException", "You specified a target that doesn't exist.")

    def op_ListRoots(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Roots": [self._root()]}

    def op_ListAccounts(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Accounts": list(self.accounts.values())}

    def op_DescribeAccount(self, params: dict[str, Any]) -> dict[str, Any]:
        acct = self.accounts.get(str(params.get("AccountId")))
        if acct is None:
            raise AwsError(
                "AccountNotFoundException", "You specified an account that doesn't exist."
            )
        return {"Account": acct}

    def op_InviteAccountToOrganization(self, params: dict[str, Any]) -> dict[str, Any]:
        target = (params.get("Target") or {}).get("Id", "")
        if not (len(target) == 12 and target.isdigit()):
            raise AwsError("InvalidInputException", "The target must be a 12-digit account id.")
        self.join(target)
        return {
            "Handshake": {
                "Id": "h-" + _rand(10),
                "State": "ACCEPTED",
                "Parties": [{"Id": target, "Type": "ACCOUNT"}],
            }
        }

    def op_ListParents(self, params: dict[str, Any]) -> dict[str, Any]:
        child = self._target(params.get("ChildId"))
        parent = self.parent.get(child)
        if parent is None:
            return {"Parents": []}
        return {
            "Parents": [
                {"Id": parent, "Type": "ROOT" if parent == self.root_id else "ORGANIZATIONAL_UNIT"}
            ]
        }

    def op_ListChildren(self, params: dict[str, Any]) -> dict[str, Any]:
        parent = self._target(params.get("ParentId"))
        ctype = params.get("ChildType")
        children = [
            {"Id": c, "Type": "ACCOUNT" if c in self.accounts else "ORGANIZATIONAL_UNIT"}
            for c, p in self.parent.items()
            if p == parent
        ]
        return {"Children": [c for c in children if not ctype or c["Type"] == ctype]}

    def op_ListAccountsForParent(self, params: dict[str, Any]) -> dict[str, Any]:
        parent = self._target(params.get("ParentId"))
        return {"Accounts": [a for i, a in self.accounts.items() if self.parent.get(i) == parent]}

    def op_ListOrganizationalUnitsForParent(self, params: dict[str, Any]) -> dict[str, Any]:
        parent = self._target(params.get("ParentId"))
        return {
            "OrganizationalUnits": [o for i, o in self.ous.items() if self.parent.get(i) == parent]
        }

    def op_CreateOrganizationalUnit(self, params: dict[str, Any]) -> dict[str, Any]:
        parent = self._target(params.get("ParentId"))
        ou_id = f"ou-{self.root_id[2:]}-{_rand(8)}"
        ou = {
            "Id": ou_id,
            "Arn": f"arn:aws:organizations::{MANAGEMENT}:ou/{self.org_id}/{ou_id}",
            "Name": str(params.get("Name") or ""),
        }
        self.ous[ou_id] = ou
        self.parent[ou_id] = parent
        for pol in self.policies.values():
            if pol.aws_managed:
                pol.targets.add(ou_id)
        return {"OrganizationalUnit": ou}

    def op_DescribeOrganizationalUnit(self, params: dict[str, Any]) -> dict[str, Any]:
        ou = self.ous.get(str(params.get("OrganizationalUnitId")))
        if ou is None:
            raise AwsError(
                "OrganizationalUnitNotFoundException",
                "We can't find an OU with the OrganizationalUnitId that you specified.",
            )
        return {"OrganizationalUnit": ou}

    def op_UpdateOrganizationalUnit(self, params: dict[str, Any]) -> dict[str, Any]:
        ou = self.op_DescribeOrganizationalUnit(params)["OrganizationalUnit"]
        if params.get("Name"):
            ou["Name"] = params["Name"]
        return {"OrganizationalUnit": ou}

    def op_DeleteOrganizationalUnit(self, params: dict[str, Any]) -> dict[str, Any]:
        ou_id = str(params.get("OrganizationalUnitId"))
        self.op_DescribeOrganizationalUnit(params)
        if any(p == ou_id for p in self.parent.values()):
            raise AwsError("OrganizationalUnitNotEmptyException", "The specified OU is not empty.")
        self.ous.pop(ou_id)
        self.parent.pop(ou_id, None)
        for pol in self.policies.values():
            pol.targets.discard(ou_id)
        return {}

    def op_MoveAccount(self, params: dict[str, Any]) -> dict[str, Any]:
        account = str(params.get("AccountId"))
        if account not in self.accounts:
            raise AwsError(
                "AccountNotFoundException", "You specified an account that doesn't exist."
            )
        if self.parent.get(account) != params.get("SourceParentId"):
            raise AwsError(
                "SourceParentNotFoundException",
                "We can't find a source root or OU with the ParentId that you specified.",
            )
        self.parent[account] = self._target(params.get("DestinationParentId"))
        return {}

    def op_ListAWSServiceAccessForOrganization(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"EnabledServicePrincipals": []}

    def op_ListDelegatedAdministrators(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"DelegatedAdministrators": []}
