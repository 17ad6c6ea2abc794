"""The lab organization (Organizations API): accounts, OUs, SCPs and RCPs.

Neither LocalStack community nor moto can place fixed account ids in an organization, so
the lab keeps the organization itself. Management account 111111111111; members
222222222222 and 333333333333; both policy types are enabled with the AWS managed
FullAWSAccess / RCPFullAWSAccess attached everywhere, as AWS attaches them on enabling.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from harness.aws.organizations import (
    FULL_ACCESS_DOCUMENT,
    FULL_ACCESS_NAME,
    POLICY_TYPES,
    RCP,
    SCP,
)
from harness.lab.errors import AwsError
from harness.policy import PolicyError, evaluate

MANAGEMENT = "111111111111"
MEMBERS = ("222222222222", "333333333333")
NO_ACCESS = "You don't have permissions to access this resource."


def _rand(n: int) -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(n))


@dataclass
class OrgPolicy:
    policy_id: str
    name: str
    ptype: str
    content: str
    description: str = ""
    aws_managed: bool = False
    targets: set[str] = field(default_factory=set)
    tags: dict[str, str] = field(default_factory=dict)


class Organization:
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

    def _policy(self, policy_id: Any) -> OrgPolicy:
        pol = self.policies.get(str(policy_id))
        if pol is None:
            raise AwsError(
                "PolicyNotFoundException",
                "We can't find a policy with the PolicyId that you specified.",
            )
        return pol

    def _summary(self, pol: OrgPolicy) -> dict[str, Any]:
        return {
            "Id": pol.policy_id,
            "Arn": f"arn:aws:organizations::{MANAGEMENT}:policy/{self.org_id}/"
            f"{pol.ptype.lower()}/{pol.policy_id}",
            "Name": pol.name,
            "Description": pol.description,
            "Type": pol.ptype,
            "AwsManaged": pol.aws_managed,
        }

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

    def op_CreatePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        ptype = params.get("Type")
        if ptype not in POLICY_TYPES:
            raise AwsError("InvalidInputException", f"Invalid policy type {ptype}.")
        content = params.get("Content")
        self._validate(content, ptype)
        name = str(params.get("Name") or "")
        if any(p.name == name and p.ptype == ptype for p in self.policies.values()):
            raise AwsError(
                "DuplicatePolicyException", "A policy with the same name already exists."
            )
        pol = OrgPolicy(
            "p-" + _rand(8), name, str(ptype), str(content), str(params.get("Description") or "")
        )
        pol.tags = {t["Key"]: t["Value"] for t in params.get("Tags") or []}
        self.policies[pol.policy_id] = pol
        return {"Policy": {"PolicySummary": self._summary(pol), "Content": pol.content}}

    def _validate(self, content: Any, ptype: Any) -> None:
        bad = AwsError(
            "MalformedPolicyDocumentException",
            "The provided policy document does not meet the requirements of the specified policy type.",
        )
        if not isinstance(content, str):
            raise bad
        try:
            doc = json.loads(content)
        except ValueError as exc:
            raise bad from exc
        if not isinstance(doc, dict) or "Statement" not in doc:
            raise bad
        if ptype in (SCP, RCP):
            # An SCP or RCP applies to every caller below its target: one the evaluator cannot
            # read would turn all their decisions into errors, so it is refused here, as AWS
            # refuses a malformed policy document.
            layer = "scps" if ptype == SCP else "rcps"
            probe = {
                "request": {
                    "principal": f"arn:aws:iam::{MANAGEMENT}:role/probe",
                    "action": "kms:Decrypt",
                    "resource": f"arn:aws:kms:us-east-1:{MANAGEMENT}:key/probe",
                },
                layer: [[doc]],
            }
            try:
                evaluate(probe)
            except PolicyError as exc:
                raise bad from exc
        if len(content) > 5120:
            raise AwsError(
                "ConstraintViolationException", "You attempted to exceed the maximum policy size."
            )

    def op_DescribePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        pol = self._policy(params.get("PolicyId"))
        return {"Policy": {"PolicySummary": self._summary(pol), "Content": pol.content}}

    def op_UpdatePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        pol = self._policy(params.get("PolicyId"))
        if pol.aws_managed:
            raise AwsError("AccessDeniedException", NO_ACCESS)
        if params.get("Content") is not None:
            self._validate(params["Content"], pol.ptype)
            pol.content = params["Content"]
        if params.get("Name"):
            pol.name = params["Name"]
        if params.get("Description") is not None:
            pol.description = params["Description"]
        return self.op_DescribePolicy(params)

    def op_DeletePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        pol = self._policy(params.get("PolicyId"))
        if pol.targets:
            raise AwsError(
                "PolicyInUseException", "The policy is attached to one or more entities."
            )
        self.policies.pop(pol.policy_id)
        return {}

    def op_ListPolicies(self, params: dict[str, Any]) -> dict[str, Any]:
        ptype = params.get("Filter")
        return {"Policies": [self._summary(p) for p in self.policies.values() if p.ptype == ptype]}

    def op_AttachPolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        pol = self._policy(params.get("PolicyId"))
        target = self._target(params.get("TargetId"))
        if pol.ptype not in self.enabled:
            raise AwsError(
                "PolicyTypeNotEnabledException",
                "The specified policy type isn't currently enabled in this root.",
            )
        if target in pol.targets:
            raise AwsError(
                "DuplicatePolicyAttachmentException",
                "The selected policy is already attached to the specified target.",
            )
        pol.targets.add(target)
        return {}

    def op_DetachPolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        pol = self._policy(params.get("PolicyId"))
        target = self._target(params.get("TargetId"))
        if target not in pol.targets:
            raise AwsError(
                "PolicyNotAttachedException",
                "The policy isn't attached to the specified target in the specified root.",
            )
        pol.targets.discard(target)
        return {}

    def op_ListPoliciesForTarget(self, params: dict[str, Any]) -> dict[str, Any]:
        target = self._target(params.get("TargetId"))
        ptype = params.get("Filter")
        return {
            "Policies": [
                self._summary(p)
                for p in self.policies.values()
                if p.ptype == ptype and target in p.targets
            ]
        }

    def op_ListTargetsForPolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        pol = self._policy(params.get("PolicyId"))
        out = []
        for target in sorted(pol.targets):
            if target == self.root_id:
                out.append(
                    {"TargetId": target, "Arn": self._root()["Arn"], "Name": "Root", "Type": "ROOT"}
                )
            elif target in self.ous:
                out.append(
                    {
                        "TargetId": target,
                        "Arn": self.ous[target]["Arn"],
                        "Name": self.ous[target]["Name"],
                        "Type": "ORGANIZATIONAL_UNIT",
                    }
                )
            elif target in self.accounts:
                out.append(
                    {
                        "TargetId": target,
                        "Arn": self.accounts[target]["Arn"],
                        "Name": self.accounts[target]["Name"],
                        "Type": "ACCOUNT",
                    }
                )
        return {"Targets": out}

    def op_EnablePolicyType(self, params: dict[str, Any]) -> dict[str, Any]:
        ptype = str(params.get("PolicyType"))
        if ptype in self.enabled:
            raise AwsError(
                "PolicyTypeAlreadyEnabledException", "The specified policy type is already enabled."
            )
        self.enabled.add(ptype)
        return {"Root": self._root()}

    def op_DisablePolicyType(self, params: dict[str, Any]) -> dict[str, Any]:
        ptype = str(params.get("PolicyType"))
        if ptype not in self.enabled:
            raise AwsError(
                "PolicyTypeNotEnabledException",
                "The specified policy type isn't currently enabled in this root.",
            )
        self.enabled.discard(ptype)
        return {"Root": self._root()}

    def op_ListTagsForResource(self, params: dict[str, Any]) -> dict[str, Any]:
        pol = self.policies.get(str(params.get("ResourceId")))
        tags = pol.tags if pol else {}
        return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}

    def op_TagResource(self, params: dict[str, Any]) -> dict[str, Any]:
        pol = self.policies.get(str(params.get("ResourceId")))
        if pol:
            pol.tags.update({t["Key"]: t["Value"] for t in params.get("Tags") or []})
        return {}

    def op_UntagResource(self, params: dict[str, Any]) -> dict[str, Any]:
        pol = self.policies.get(str(params.get("ResourceId")))
        if pol:
            for k in params.get("TagKeys") or []:
                pol.tags.pop(k, None)
        return {}

    def op_ListAWSServiceAccessForOrganization(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"EnabledServicePrincipals": []}

    def op_ListDelegatedAdministrators(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"DelegatedAdministrators": []}
