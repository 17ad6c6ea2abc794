"""A lab-backed world: operator set-up, issued credentials, and failing calls as a principal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness.aws.clients import Target
from harness.evidence.calls import make_client

from .scenarios import doc

APP_ACCOUNT = "111111111111"
KEY_ACCOUNT = "222222222222"


def operator(endpoint: str, account: str = APP_ACCOUNT) -> Target:
    # Lab operator credentials: access key id = account id, any secret (contract section 5).
    return Target(endpoint_url=endpoint, region="us-east-1", access_key_id=account,
                  secret_access_key="lab-operator-secret")  # fmt: skip


@dataclass
class LabWorld:
    endpoint: str
    account: str = APP_ACCOUNT

    def op(self, account: str | None = None) -> Target:
        return operator(self.endpoint, account or self.account)

    def client(self, service: str, account: str | None = None, region: str = "us-east-1") -> Any:
        return make_client(self.op(account), service, region, 1)

    def role(self, name: str, policy: dict[str, Any] | None = None, account: str | None = None,
             trust_account: str | None = None) -> str:  # fmt: skip
        account = account or self.account
        trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{trust_account or account}:root"},
                     "Action": "sts:AssumeRole"})  # fmt: skip
        iam = self.client("iam", account)
        arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        if policy is not None:
            iam.put_role_policy(
                RoleName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy)
            )
        return arn

    def assume(
        self, role: str, session: str, account: str | None = None, **kwargs: Any
    ) -> tuple[Target, str]:
        account = account or self.account
        sts = self.client("sts", account)
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName=session,
                                **kwargs)["Credentials"]  # fmt: skip
        target = Target(endpoint_url=self.endpoint, region="us-east-1", access_key_id=creds["AccessKeyId"],
                        secret_access_key=creds["SecretAccessKey"], session_token=creds["SessionToken"])  # fmt: skip
        return target, f"arn:aws:sts::{account}:assumed-role/{role}/{session}"

    def key(
        self, policy: str | None = None, account: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        params = dict(kwargs)
        if policy:
            params["Policy"] = policy
        meta: dict[str, Any] = self.client("kms", account).create_key(**params)["KeyMetadata"]
        return meta

    def root_policy(self, *extra: dict[str, Any], account: str | None = None) -> str:
        return doc(
            {"Sid": "EnableIAM", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account or self.account}:root"},
             "Action": "kms:*", "Resource": "*"},
            *extra,
        )  # fmt: skip
