"""IAM principals: roles and users, their boundaries, identity policies, and principals
recreated so that key policies hold orphaned ids."""

from __future__ import annotations

import json
from typing import Any

from harness.aws.policies import account_trust_policy
from harness.scenarios.native.base import ProvisionerBase
from harness.scenarios.refs import ResolvedRefs, substitute


class PrincipalProvisioning(ProvisionerBase):
    def _principals(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        for name, spec in after["principals"].items():
            old = before["principals"].get(name)
            account_id = after["accounts"][spec["account"]]
            iam = self.client("iam", account_id, after["region"])
            if old is None:
                self._create_principal(iam, name, spec, account_id, resolved)

    def _boundaries(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        for name, spec in after["principals"].items():
            old = before["principals"].get(name)
            if spec.get("boundary") != (old or {}).get("boundary"):
                account_id = after["accounts"][spec["account"]]
                iam = self.client("iam", account_id, after["region"])
                self._set_boundary(iam, name, spec, account_id, resolved)

    def _create_principal(
        self, iam: Any, name: str, spec: dict[str, Any], account_id: str, resolved: ResolvedRefs
    ) -> None:
        if spec["type"] == "role":
            trust = account_trust_policy(account_id)
            role = iam.create_role(
                RoleName=self.prefix + spec["name"],
                Path=spec["path"],
                AssumeRolePolicyDocument=json.dumps(trust),
            )["Role"]
            resolved.principal[name] = {
                "arn": role["Arn"],
                "name": role["RoleName"],
                "unique_id": role["RoleId"],
                "account": account_id,
                "type": "role",
            }
        else:
            user = iam.create_user(UserName=self.prefix + spec["name"], Path=spec["path"])["User"]
            resolved.principal[name] = {
                "arn": user["Arn"],
                "name": user["UserName"],
                "unique_id": user["UserId"],
                "account": account_id,
                "type": "user",
            }

    def _set_boundary(
        self, iam: Any, name: str, spec: dict[str, Any], account_id: str, resolved: ResolvedRefs
    ) -> None:
        ident = self.prefix + spec["name"]
        is_role = spec["type"] == "role"
        boundary = spec.get("boundary")
        if boundary is None:
            if is_role:
                iam.delete_role_permissions_boundary(RoleName=ident)
            else:
                iam.delete_user_permissions_boundary(UserName=ident)
            return
        doc = json.dumps(substitute(boundary, resolved))
        count = len(resolved.principal[name].get("boundaries", "")) + 1
        # The first one has Terraform's name (modules/account), so both paths show the same
        # evidence; a changed boundary is a new policy here, a new version in Terraform.
        policy_name = f"{ident}-boundary" if count == 1 else f"{ident}-boundary-{count}"
        arn = iam.create_policy(PolicyName=policy_name, PolicyDocument=doc)["Policy"]["Arn"]
        resolved.principal[name]["boundaries"] = "x" * count
        if is_role:
            iam.put_role_permissions_boundary(RoleName=ident, PermissionsBoundary=arn)
        else:
            iam.put_user_permissions_boundary(UserName=ident, PermissionsBoundary=arn)

    def _recreate(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        """Delete and recreate principals whose key policy entries should be orphaned ids."""
        for name, spec in after["principals"].items():
            if not spec.get("recreated") or before["principals"].get(name, {}).get("recreated"):
                continue
            account_id = after["accounts"][spec["account"]]
            iam = self.client("iam", account_id, after["region"])
            previous = resolved.principal[name]["unique_id"]
            ident = self.prefix + spec["name"]
            if spec["type"] == "role":
                if spec.get("boundary") is not None:
                    iam.delete_role_permissions_boundary(RoleName=ident)
                iam.delete_role(RoleName=ident)
            else:
                if spec.get("boundary") is not None:
                    iam.delete_user_permissions_boundary(UserName=ident)
                iam.delete_user(UserName=ident)
            self._create_principal(iam, name, spec, account_id, resolved)
            resolved.principal[name]["previous_unique_id"] = previous
            if spec.get("boundary") is not None:
                self._set_boundary(iam, name, spec, account_id, resolved)

    def _identity_policies(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        for name, spec in after["principals"].items():
            old = before["principals"].get(name, {})
            account_id = after["accounts"][spec["account"]]
            iam = self.client("iam", account_id, after["region"])
            ident = self.prefix + spec["name"]
            is_role = spec["type"] == "role"
            fresh = old.get("recreated") != spec.get("recreated")
            if fresh or old.get("policies") != spec["policies"]:
                old_count = 0 if fresh else len(old.get("policies", []))
                for i, doc in enumerate(spec["policies"]):
                    text = json.dumps(substitute(doc, resolved))
                    if is_role:
                        iam.put_role_policy(
                            RoleName=ident, PolicyName=f"inline-{i}", PolicyDocument=text
                        )
                    else:
                        iam.put_user_policy(
                            UserName=ident, PolicyName=f"inline-{i}", PolicyDocument=text
                        )
                for i in range(len(spec["policies"]), old_count):
                    if is_role:
                        iam.delete_role_policy(RoleName=ident, PolicyName=f"inline-{i}")
                    else:
                        iam.delete_user_policy(UserName=ident, PolicyName=f"inline-{i}")
            if fresh or old.get("managed_policies") != spec["managed_policies"]:
                attached = json.loads(resolved.principal[name].get("managed", "[]"))
                for arn in attached:
                    if is_role:
                        iam.detach_role_policy(RoleName=ident, PolicyArn=arn)
                    else:
                        iam.detach_user_policy(UserName=ident, PolicyArn=arn)
                arns = []
                base = len(attached)
                for i, doc in enumerate(spec["managed_policies"]):
                    text = json.dumps(substitute(doc, resolved))
                    arn = iam.create_policy(
                        PolicyName=f"{ident}-managed-{base + i}", PolicyDocument=text
                    )["Policy"]["Arn"]
                    if is_role:
                        iam.attach_role_policy(RoleName=ident, PolicyArn=arn)
                    else:
                        iam.attach_user_policy(UserName=ident, PolicyArn=arn)
                    arns.append(arn)
                resolved.principal[name]["managed"] = json.dumps(arns)
