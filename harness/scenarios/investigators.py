"""Lab-issued investigator roles: evidence read the way a least-privilege person reads it.

`kmslab run` does not read evidence as the operators (they bypass authorization, so the
investigator policy would never be tried). It creates, in each account the investigation
touches, a role holding exactly the policy `kmslab collect --print-iam-policy` prints
(`harness.evidence.investigator_policy`, the same function), assumes it through STS and
collects with those credentials: the lab then authorizes every read as AWS would, key policy
and SCPs included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import botocore.exceptions

from harness.aws.clients import CredentialSlot, Target
from harness.aws.policies import account_trust_policy
from harness.errors import UsageError
from harness.evidence.registered import investigator_policy
from harness.scenarios.native import NativeProvisioner

ROLE_NAME = "kmslab-run-investigator"
POLICY_NAME = "kmslab-investigator-policy"
SESSION_NAME = "kmslab-investigation"


@dataclass(frozen=True)
class Session:
    arn: str
    access_key_id: str
    secret_access_key: str
    session_token: str


class Investigators:
    """One investigator role and session per account and name prefix, until the lab resets.

    The session's credentials go into the account's CredentialSlot: the investigator's
    clients are made once for the whole run and sign with the session of the scenario being
    investigated (a lab reset deletes the role, so each scenario issues a new session).
    """

    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str], Session] = {}
        self._slots: dict[str, CredentialSlot] = {}

    def forget(self) -> None:
        self._sessions.clear()

    def target(self, provisioner: NativeProvisioner, account_id: str, region: str) -> Target:
        """Credentials of the investigator role in `account_id`, created on first use."""
        key = (provisioner.prefix, account_id)
        session = self._sessions.get(key)
        slot = self._slots.setdefault(account_id, CredentialSlot())
        if session is None:
            session = self._sessions[key] = self._create(provisioner, account_id, region)
        if slot.access_key_id != session.access_key_id:
            slot.fill(session.access_key_id, session.secret_access_key, session.session_token)
        base = provisioner.targets(account_id, region)
        return Target(endpoint_url=base.endpoint_url, region=region, slot=slot)

    def _create(self, provisioner: NativeProvisioner, account_id: str, region: str) -> Session:
        # The operator creates the role, as an administrator would for the on-call team.
        iam = provisioner.client("iam", account_id, region)
        name = f"{provisioner.prefix}{ROLE_NAME}"
        try:
            role = iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(account_trust_policy(account_id)),
                Description="kmslab run: least-privilege investigator (collect --print-iam-policy)",
            )["Role"]
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "EntityAlreadyExists":
                raise
            # The setup declared the role (a key policy that names it needs it first).
            role = iam.get_role(RoleName=name)["Role"]
            granted_otherwise(iam, name, role)
        iam.put_role_policy(
            RoleName=name,
            PolicyName=POLICY_NAME,
            PolicyDocument=json.dumps(investigator_policy()),
        )
        sts = provisioner.client("sts", account_id, region)
        assumed = sts.assume_role(RoleArn=role["Arn"], RoleSessionName=SESSION_NAME)
        creds = assumed["Credentials"]
        return Session(
            arn=str(assumed["AssumedRoleUser"]["Arn"]),
            access_key_id=creds["AccessKeyId"],
            secret_access_key=creds["SecretAccessKey"],
            session_token=creds["SessionToken"],
        )


def granted_otherwise(iam: Any, name: str, role: dict[str, Any]) -> None:
    """Refuse a declared investigator role that holds anything but the printed policy: what
    `kmslab run` reads with must be exactly `collect --print-iam-policy`."""
    inline = [p for p in iam.list_role_policies(RoleName=name)["PolicyNames"] if p != POLICY_NAME]
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    boundary = role.get("PermissionsBoundary")
    if inline or attached or boundary:
        raise UsageError(
            f"the setup's role {name} is the run's investigator role and must hold only "
            f"{POLICY_NAME} (collect --print-iam-policy); it has "
            + ", ".join(
                [f"inline {p}" for p in inline]
                + [f"attached {p['PolicyArn']}" for p in attached]
                + (["a permissions boundary"] if boundary else [])
            )
        )
