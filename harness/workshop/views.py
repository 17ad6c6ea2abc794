"""The setup as it is on the lab (read as the accounts' operators) and as the fix intends it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from harness.scenarios.model import Scenario
from harness.scenarios.native import NativeProvisioner
from harness.scenarios.refs import ResolvedRefs, substitute
from harness.workshop.legitimacy import SetupView


def _doc(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(unquote(value))
        except ValueError:
            return json.loads(value)
    return value


def intended_view(
    scenario: Scenario, provisioner: NativeProvisioner, resolved: ResolvedRefs
) -> SetupView:
    """The fixed setup as the provisioner would build it, references resolved."""
    setup = scenario.setup
    view = SetupView()
    for name, spec in setup["keys"].items():
        if name not in resolved.key:
            continue
        account_id = setup["accounts"][spec["account"]]
        view.key_arns[name] = resolved.key[name]["arn"]
        view.key_policies[name] = json.loads(provisioner.key_policy(spec, account_id, resolved))
    for name, spec in setup["principals"].items():
        if name not in resolved.principal:
            continue
        view.principal_arns[name] = resolved.principal[name]["arn"]
        view.identity[name] = [
            substitute(doc, resolved) for doc in spec["policies"] + spec["managed_policies"]
        ]
    for grant in setup["grants"]:
        entry: dict[str, Any] = {
            "GranteePrincipal": provisioner.grantee(grant["grantee"], resolved),
            "Operations": list(grant["operations"]),
        }
        if grant.get("constraints"):
            entry["Constraints"] = grant["constraints"]
        view.grants.setdefault(grant["key"], []).append(entry)
    return view


def _all(client: Any, method: str, field: str, **kwargs: Any) -> list[Any]:
    out: list[Any] = []
    for page in client.get_paginator(method).paginate(**kwargs):
        out.extend(page.get(field, []))
    return out


def identity_policies(iam: Any, kind: str, name: str) -> list[Any]:
    docs: list[Any] = []
    if kind == "role":
        for policy in _all(iam, "list_role_policies", "PolicyNames", RoleName=name):
            docs.append(
                _doc(iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"])
            )
        attached = _all(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name)
    else:
        for policy in _all(iam, "list_user_policies", "PolicyNames", UserName=name):
            docs.append(
                _doc(iam.get_user_policy(UserName=name, PolicyName=policy)["PolicyDocument"])
            )
        attached = _all(iam, "list_attached_user_policies", "AttachedPolicies", UserName=name)
    for policy in attached:
        arn = policy["PolicyArn"]
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        got = iam.get_policy_version(PolicyArn=arn, VersionId=version)
        docs.append(_doc(got["PolicyVersion"]["Document"]))
    return docs


def actual_view(
    scenario: Scenario, provisioner: NativeProvisioner, resolved: ResolvedRefs
) -> SetupView:
    """What the lab holds now for the scenario's keys and principals."""
    setup = scenario.setup
    view = SetupView()
    for name in setup["keys"]:
        if name not in resolved.key:
            continue
        key = resolved.key[name]
        kms = provisioner.client("kms", key["account"], key["region"])
        view.key_arns[name] = key["arn"]
        text = kms.get_key_policy(KeyId=key["arn"], PolicyName="default")["Policy"]
        view.key_policies[name] = json.loads(text)
        view.grants[name] = _all(kms, "list_grants", "Grants", KeyId=key["arn"])
    for name in setup["principals"]:
        if name not in resolved.principal:
            continue
        info = resolved.principal[name]
        iam = provisioner.client("iam", info["account"], setup["region"])
        view.principal_arns[name] = info["arn"]
        view.identity[name] = identity_policies(iam, info["type"], info["name"])
    return view
