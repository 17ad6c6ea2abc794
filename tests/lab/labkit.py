"""Helpers for lab tests: a Lab handle with boto3 clients as operators or issued credentials.

The fixtures (conftest.py): one lab per upstream for the session, reset before each test.

Tests that take the `lab` fixture run against embedded moto and against LocalStack (started
by scripts/localstack.sh, or at KMSLAB_LOCALSTACK_URL); LocalStack runs are skipped, with the
reason, only when LocalStack cannot be started on this machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.config

from harness.lab import LabClient, LabServer

APP = "111111111111"
OTHER = "222222222222"
THIRD = "333333333333"
REGION = "us-east-1"


def trust(account: str = APP) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def allow(action: Any = "kms:*", resource: Any = "*", **extra: Any) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}],
        }
    )


@dataclass
class LabKit:
    server: LabServer
    upstream: str

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    @property
    def admin(self) -> LabClient:
        return LabClient(self.endpoint)

    def client(
        self,
        service: str,
        account: str = APP,
        region: str = REGION,
        creds: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        if creds:
            kwargs = {
                "aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds.get("SessionToken"),
            }
        else:
            kwargs = {"aws_access_key_id": account, "aws_secret_access_key": "operator"}
        client = boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            config=botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}),
            **kwargs,
        )
        if headers:

            def add(request: Any, **_: Any) -> None:
                for k, v in headers.items():
                    request.headers[k] = v

            client.meta.events.register_first("before-sign.*.*", add)
        return client

    def role(self, name: str, account: str = APP, policy: str | None = None, **kwargs: Any) -> str:
        iam = self.client("iam", account)
        arn: str = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=trust(account), **kwargs
        )["Role"]["Arn"]
        if policy is not None:
            iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=policy)
        return arn

    def assume(
        self, role_arn: str, session: str = "s1", account: str | None = None, **kwargs: Any
    ) -> dict[str, str]:
        acct = account or role_arn.split(":")[4]
        creds: dict[str, str] = self.client("sts", acct).assume_role(
            RoleArn=role_arn, RoleSessionName=session, **kwargs
        )["Credentials"]
        return creds

    def key(self, account: str = APP, region: str = REGION, **kwargs: Any) -> dict[str, Any]:
        meta: dict[str, Any] = self.client("kms", account, region).create_key(**kwargs)[
            "KeyMetadata"
        ]
        return meta


def error(exc_info: Any) -> tuple[str, str]:
    err = exc_info.value.response["Error"]
    return err["Code"], err.get("Message", "")
