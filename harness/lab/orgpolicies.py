"""The lab organization's policies (Organizations API): SCP and RCP documents, attachments, tags.

Split from orgs.py, which keeps the organization's accounts and OUs and what authorization
reads from it; this mixin holds the policy operations, which only touch `policies`, the
enabled types and the targets the organization resolves.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from harness.aws.organizations import POLICY_TYPES, RCP, SCP
from harness.lab.errors import AwsError
from harness.policy import PolicyError, evaluate

MANAGEMENT = "111111111111"
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


class PolicyOperations:
    """Organizations policy operations, mixed into `Organization` (which holds the state)."""

    org_id: str
    root_id: str
    accounts: dict[str, dict[str, Any]]
    ous: dict[str, dict[str, Any]]
    enabled: set[str]
    policies: dict[str, OrgPolicy]

    def _root(self) -> dict[str, Any]:
        raise NotImplementedError

    def _target(self, target: Any) -> str:
        raise NotImplementedError

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
