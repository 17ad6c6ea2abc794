"""The two kinds of credentials a participant gets, both issued by the lab.

- investigator: read-only. Its IAM policy is the evidence collectors' least-privilege
  policy (`harness.evidence.investigator_policy`) plus the reads a person at a terminal
  also uses (ListKeys, CloudTrail and Logs browsing), and nothing that changes anything.
- fixer: may change the exercise's setup, and only inside the participant's own accounts.

Both are roles in each of the participant's accounts, assumed with STS AssumeRole, never
the operator credentials. A key policy without the account's root statement does not let
IAM policies work (key-policy-default.html), so keys with their own policy also get the two
statements a real key carries for its auditors and administrators.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from harness.aws.operations import READ_VERBS
from harness.aws.policies import account_trust_policy, default_key_policy
from harness.evidence import investigator_policy
from harness.scenarios.model import Scenario

INVESTIGATOR_ROLE = "kmslab-workshop-investigator"
FIXER_ROLE = "kmslab-workshop-fixer"
SESSION_SECONDS = 43200  # a workshop day; the AssumeRole maximum (API_AssumeRole.html)

# Reads a person uses that the collectors do not declare.
EXTRA_READS = (
    "kms:ListKeys",
    "kms:ListResourceTags",
    "kms:ListRetirableGrants",
    "kms:GetPublicKey",
    "iam:ListRoles",
    "iam:ListUsers",
    "iam:ListPolicies",
    "iam:ListAttachedRolePolicies",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:GetLogEvents",
    "ec2:DescribeVpcs",
)

# The key administrators' actions of the default key policy (key-policy-default.html,
# "Allows key administrators to administer the KMS key"): everything but cryptography.
KEY_ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
]
KEY_READ_ACTIONS = [
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
]
IAM_RESOURCE_KINDS = ("role", "user", "group", "policy", "instance-profile")
INVESTIGATOR_SID = "KmslabWorkshopInvestigator"
ADMIN_SID = "KmslabWorkshopKeyAdministrator"


def role_arn(account_id: str, role: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{role}"


def is_read_action(action: str) -> bool:
    _, _, name = action.partition(":")
    return name.startswith(READ_VERBS)


def investigator_identity_policy() -> dict[str, Any]:
    actions = set(EXTRA_READS)
    for statement in investigator_policy()["Statement"]:
        listed = statement["Action"]
        actions |= {listed} if isinstance(listed, str) else set(listed)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "KmslabWorkshopReadOnly",
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": "*",
            }
        ],
    }


def fixer_identity_policy(account_id: str) -> dict[str, Any]:
    """Change anything of KMS and IAM, but only resources of `account_id`."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ChangeThisAccountsKeysAndIam",
                "Effect": "Allow",
                "Action": ["kms:*", "iam:*"],
                "Resource": [f"arn:aws:kms:*:{account_id}:*"]
                + [f"arn:aws:iam::{account_id}:{kind}/*" for kind in IAM_RESOURCE_KINDS],
            },
            {
                # These actions take no resource ARN (their Resource element must be "*").
                "Sid": "AccountWideKmsCalls",
                "Effect": "Allow",
                "Action": ["kms:CreateKey", "kms:ListKeys", "kms:ListAliases"],
                "Resource": "*",
            },
            investigator_identity_policy()["Statement"][0] | {"Sid": "ReadEverything"},
        ],
    }


def workshop_key_statements(account_ids: list[str]) -> list[dict[str, Any]]:
    """What the space's investigators and fixers need in a key policy of their own."""
    return [
        {
            "Sid": INVESTIGATOR_SID,
            "Effect": "Allow",
            "Principal": {"AWS": [role_arn(a, INVESTIGATOR_ROLE) for a in account_ids]},
            "Action": list(KEY_READ_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": ADMIN_SID,
            "Effect": "Allow",
            "Principal": {"AWS": [role_arn(a, FIXER_ROLE) for a in account_ids]},
            "Action": list(KEY_ADMIN_ACTIONS),
            "Resource": "*",
        },
    ]


def _with_statements(policy: dict[str, Any], extra: list[dict[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(policy)
    current = out.get("Statement", [])
    statements = list(current) if isinstance(current, list) else [current]
    out["Statement"] = statements + copy.deepcopy(extra)
    return out


def with_workshop_access(scenario: Scenario, account_ids: list[str]) -> Scenario:
    """The scenario whose own key policies (setup and fix) also admit the workshop roles."""
    raw = copy.deepcopy(scenario.raw)
    extra = workshop_key_statements(account_ids)
    for name, key in (raw.get("setup", {}).get("keys") or {}).items():
        replicas = (key.get("replicas") or {}).values() if isinstance(key, dict) else []
        if "policy" not in key and any(isinstance(r.get("policy"), dict) for r in replicas):
            # Replicas get the workshop statements in their own policies: the primary's
            # default policy, written out, gets them too, or the two would differ by them
            # alone (a divergence the exercise did not set).
            account = scenario.setup["keys"][name]["account"]
            key["policy"] = default_key_policy(f"${{account.{account}}}")
    for section in (raw.get("setup", {}), raw.get("fix", {}).get("setup", {})):
        for key in (section.get("keys") or {}).values():
            if isinstance(key, dict) and isinstance(key.get("policy"), dict):
                key["policy"] = _with_statements(key["policy"], extra)
            for replica in (key.get("replicas") or {}).values() if isinstance(key, dict) else []:
                if isinstance(replica, dict) and isinstance(replica.get("policy"), dict):
                    replica["policy"] = _with_statements(replica["policy"], extra)
    return Scenario(raw, scenario.path)


@dataclass(frozen=True)
class Credentials:
    """Credentials the lab issued for one role in one account."""

    role: str
    account: str
    account_name: str
    arn: str
    access_key_id: str
    secret_access_key: str
    session_token: str

    def to_dict(self) -> dict[str, str]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Credentials:
        return cls(**data)


def create_roles(iam: Any, account_id: str) -> None:
    """The investigator and fixer roles of one account (before the keys that name them)."""
    policies = {
        INVESTIGATOR_ROLE: investigator_identity_policy(),
        FIXER_ROLE: fixer_identity_policy(account_id),
    }
    for role, policy in policies.items():
        iam.create_role(
            RoleName=role,
            AssumeRolePolicyDocument=json.dumps(account_trust_policy(account_id)),
            Description="kmslab workshop participant access",
            MaxSessionDuration=SESSION_SECONDS,
        )
        iam.put_role_policy(RoleName=role, PolicyName="access", PolicyDocument=json.dumps(policy))


def issue(sts: Any, account_id: str, account_name: str, role: str, session: str) -> Credentials:
    """AssumeRole into a workshop role as the account's operator."""
    arn = role_arn(account_id, role)
    creds = sts.assume_role(RoleArn=arn, RoleSessionName=session, DurationSeconds=SESSION_SECONDS)[
        "Credentials"
    ]
    return Credentials(
        role=role,
        account=account_id,
        account_name=account_name,
        arn=f"arn:aws:sts::{account_id}:assumed-role/{role}/{session}",
        access_key_id=creds["AccessKeyId"],
        secret_access_key=creds["SecretAccessKey"],
        session_token=creds["SessionToken"],
    )


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _by_service(actions: list[str]) -> str:
    services: dict[str, list[str]] = {}
    for action in sorted(actions):
        service, _, name = action.partition(":")
        services.setdefault(service, []).append(name or action)
    return "; ".join(f"`{s}`: {', '.join(names)}" for s, names in sorted(services.items()))


def capabilities_markdown(account: str = "<your account>") -> str:
    """What each credential can do, written from the policies `create_roles` and
    `workshop_key_statements` actually issue (so handouts and docs cannot drift from them)."""
    lines = ["### What your credentials can do", ""]
    roles = (
        ("Investigator", INVESTIGATOR_ROLE, investigator_identity_policy(), INVESTIGATOR_SID),
        ("Fixer", FIXER_ROLE, fixer_identity_policy(account), ADMIN_SID),
    )
    key_statements = {s["Sid"]: s for s in workshop_key_statements([account])}
    for title, role, policy, sid in roles:
        lines.append(f"**{title}** (a session of the role `{role}` in each of your accounts):")
        lines.append("")
        for statement in policy["Statement"]:
            resources = ", ".join(f"`{r}`" for r in _listed(statement["Resource"]))
            lines.append(
                f"- {statement['Effect']} {_by_service(_listed(statement['Action']))} "
                f"on {resources}."
            )
        key = key_statements[sid]
        lines.append(
            f"- On keys with their own key policy, the statement `{sid}` allows "
            f"{_by_service(_listed(key['Action']))} (no cryptographic operation)."
        )
        lines.append("- Nothing else: every other action is implicitly denied.")
        lines.append("")
    lines.append(
        "Neither can reach another participant's accounts, the lab's controls or the "
        "facilitator's page, and neither is the application: `kmslab workshop check` makes "
        "the application's call with credentials of its own principal."
    )
    return "\n".join(lines) + "\n"
