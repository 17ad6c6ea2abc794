"""Small AWS setups, made with operator credentials, that each step's evidence must capture."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harness.aws.clients import Target
from harness.evidence.calls import make_client


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


@dataclass
class World:
    target: Target
    account: str
    region: str = "us-east-1"
    created: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str, region: str | None = None) -> Any:
        # Shares the collector's session cache: a boto3 Session per client is slow.
        return make_client(self.target, service, region or self.region, 1)

    def role(self, name: str = "app", path: str = "/") -> str:
        trust = doc(
            {"Effect": "Allow", "Principal": {"AWS": self.account}, "Action": "sts:AssumeRole"}
        )
        arn: str = self.client("iam").create_role(
            RoleName=name, Path=path, AssumeRolePolicyDocument=trust
        )["Role"]["Arn"]
        return arn

    def session(self, role: str = "app", name: str = "i-0abc") -> str:
        return f"arn:aws:sts::{self.account}:assumed-role/{role}/{name}"

    def key(self, key_policy: str | None = None, **kwargs: Any) -> dict[str, Any]:
        params: dict[str, Any] = dict(kwargs)
        if key_policy:
            params["Policy"] = key_policy
        meta: dict[str, Any] = self.client("kms").create_key(**params)["KeyMetadata"]
        return meta

    def alias(self, name: str, key_id: str) -> None:
        self.client("kms").create_alias(AliasName=name, TargetKeyId=key_id)

    def root_policy(self, *extra: dict[str, Any]) -> str:
        return doc(
            {
                "Sid": "EnableIAM",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{self.account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            *extra,
        )
