"""Playbook step 4: who is investigating, and the principal's IAM policies.

Inline and attached policies at their default versions, group policies for users, and the
permissions boundary. An assumed-role session is read through its role; the session policy
itself is not readable from IAM and is looked for in CloudTrail (step 8).
"""

from __future__ import annotations

from typing import Any

from harness.aws.operations import IAM_PRINCIPAL_READS
from harness.evidence.calls import Credentials
from harness.evidence.investigation import Investigation
from harness.evidence.registry import collector


@collector("caller_identity", step="4", permissions=("sts:GetCallerIdentity",))
def caller_identity(inv: Investigation) -> None:
    """STS GetCallerIdentity of the investigator (made first by collect; shared here)."""
    inv.call(inv.investigator, "sts", "GetCallerIdentity", inv.region)


@collector(
    "principal_iam",
    step="4",
    permissions=IAM_PRINCIPAL_READS,
)
def principal_iam(inv: Investigation) -> None:
    """GetRole or GetUser and every policy that applies to the principal."""
    principal = inv.principal
    if principal.role_name is not None:
        name, read, operation, param = principal.role_name, _role, "GetRole", "RoleName"
    elif principal.user_name is not None:
        name, read, operation, param = principal.user_name, _user, "GetUser", "UserName"
    else:
        return  # root, federated users: no IAM entity to read
    creds = inv.creds_for(principal.account)
    if creds is None:
        inv.unreadable("iam", operation, inv.global_region, {param: name}, principal.account)
        return
    read(inv, creds, name)


def _iam(
    inv: Investigation, creds: Credentials, operation: str, params: dict[str, Any]
) -> dict[str, Any] | None:
    return inv.call(
        creds, "iam", operation, inv.global_region, params, paginate=True, max_items=200
    )


def _each(
    inv: Investigation, creds: Credentials, operations: tuple[str, ...], params: dict[str, Any]
) -> dict[str, dict[str, Any] | None]:
    """The same-parameter IAM reads at once, by operation."""
    responses = inv.parallel(lambda op: _iam(inv, creds, op, params), operations)
    return dict(zip(operations, responses, strict=True))


def _role(inv: Investigation, creds: Credentials, name: str) -> None:
    got = _each(
        inv, creds, ("GetRole", "ListRolePolicies", "ListAttachedRolePolicies"), {"RoleName": name}
    )
    role = (got["GetRole"] or {}).get("Role", {})
    _policies(
        inv,
        creds,
        inline=[
            ("GetRolePolicy", {"RoleName": name, "PolicyName": p})
            for p in _names(got["ListRolePolicies"])
        ],
        managed=_arns(got["ListAttachedRolePolicies"]) + _boundary(role),
    )


def _user(inv: Investigation, creds: Credentials, name: str) -> None:
    operations = ("GetUser", "ListUserPolicies", "ListAttachedUserPolicies", "ListGroupsForUser")
    got = _each(inv, creds, operations, {"UserName": name})
    user = (got["GetUser"] or {}).get("User", {})
    groups = [
        g["GroupName"]
        for g in (got["ListGroupsForUser"] or {}).get("Groups", [])
        if isinstance(g, dict) and g.get("GroupName")
    ]

    def group_lists(group: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        return (
            _iam(inv, creds, "ListGroupPolicies", {"GroupName": group}),
            _iam(inv, creds, "ListAttachedGroupPolicies", {"GroupName": group}),
        )

    inline = [
        ("GetUserPolicy", {"UserName": name, "PolicyName": p})
        for p in _names(got["ListUserPolicies"])
    ]
    managed = _arns(got["ListAttachedUserPolicies"]) + _boundary(user)
    for group, lists in zip(groups, inv.parallel(group_lists, groups), strict=True):
        if lists is None:
            continue
        inline += [
            ("GetGroupPolicy", {"GroupName": group, "PolicyName": p}) for p in _names(lists[0])
        ]
        managed += _arns(lists[1])
    _policies(inv, creds, inline=inline, managed=managed)


def _policies(
    inv: Investigation,
    creds: Credentials,
    *,
    inline: list[tuple[str, dict[str, Any]]],
    managed: list[str],
) -> None:
    def inline_policy(job: tuple[str, dict[str, Any]]) -> None:
        _iam(inv, creds, job[0], job[1])

    def managed_policy(arn: str) -> None:
        # GetPolicy names the default version; GetPolicyVersion has the document.
        policy = (_iam(inv, creds, "GetPolicy", {"PolicyArn": arn}) or {}).get("Policy", {})
        version = policy.get("DefaultVersionId")
        if version:
            _iam(inv, creds, "GetPolicyVersion", {"PolicyArn": arn, "VersionId": version})

    jobs: list[Any] = [("inline", job) for job in inline] + [
        ("managed", arn) for arn in dict.fromkeys(managed)
    ]
    inv.parallel(
        lambda job: inline_policy(job[1]) if job[0] == "inline" else managed_policy(job[1]), jobs
    )


def _names(response: dict[str, Any] | None) -> list[str]:
    return [n for n in (response or {}).get("PolicyNames", []) if isinstance(n, str)]


def _arns(response: dict[str, Any] | None) -> list[str]:
    return [
        p["PolicyArn"]
        for p in (response or {}).get("AttachedPolicies", [])
        if isinstance(p, dict) and isinstance(p.get("PolicyArn"), str)
    ]


def _boundary(entity: dict[str, Any]) -> list[str]:
    arn = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    return [arn] if isinstance(arn, str) else []
