"""The read-only guard: a botocore hook that refuses any operation outside an allow-list.

Installed on every client the collectors use, before anything is sent, so a bug or a
future collector cannot change an account under investigation.
"""

from __future__ import annotations

from typing import Any

from harness.errors import KmslabError

# Read operations the collectors may call, as "<service>:<Operation>". The service prefix is
# the boto3 service name, which for these services is also the IAM action prefix.
READ_ONLY_OPERATIONS: frozenset[str] = frozenset(
    {
        "health:DescribeEvents",
        "sts:GetCallerIdentity",
        "kms:DescribeKey",
        "kms:ListKeyPolicies",
        "kms:GetKeyPolicy",
        "kms:ListAliases",
        "kms:ListGrants",
        "kms:GetKeyRotationStatus",
        "kms:ListKeyRotations",
        "kms:DescribeCustomKeyStores",
        "kms:ListResourceTags",
        "iam:GetRole",
        "iam:GetUser",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:ListUserPolicies",
        "iam:GetUserPolicy",
        "iam:ListAttachedUserPolicies",
        "iam:ListGroupsForUser",
        "iam:ListGroupPolicies",
        "iam:GetGroupPolicy",
        "iam:ListAttachedGroupPolicies",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "cloudtrail:LookupEvents",
        "cloudtrail:DescribeTrails",
        "logs:FilterLogEvents",
        "ec2:DescribeVpcEndpoints",
        "organizations:DescribeOrganization",
        "organizations:ListParents",
        "organizations:ListPoliciesForTarget",
        "organizations:DescribePolicy",
    }
)

# Verbs no read operation starts with; a meta-test checks the allow-list against them.
MUTATING_PREFIXES: tuple[str, ...] = (
    "Create", "Put", "Update", "Delete", "Enable", "Disable", "Schedule", "Cancel", "Tag",
    "Untag", "Revoke", "Retire", "Import", "Replicate", "Connect", "Disconnect", "Attach",
    "Detach", "Encrypt", "Decrypt", "ReEncrypt", "Generate", "Sign", "Verify", "Rotate",
    "Set", "Add", "Remove", "Modify", "Start", "Stop", "Assume", "Accept", "Reject", "Register",
)  # fmt: skip


class ReadOnlyViolation(KmslabError):
    """A collector tried to call an operation that is not on the read-only allow-list."""


def operation_name(service: str, operation: str) -> str:
    return f"{service}:{operation}"


def install_guard(client: Any, service: str) -> None:
    """Refuse non-allow-listed operations on `client` before they are serialised or sent."""

    def refuse(model: Any, **_: Any) -> None:
        name = operation_name(service, model.name)
        if name not in READ_ONLY_OPERATIONS:
            raise ReadOnlyViolation(f"refused {name}: evidence collection is read-only")

    client.meta.events.register_first("before-parameter-build.*.*", refuse)
