"""PutKeyPolicy / CreateKey policy validation (API_PutKeyPolicy.html): malformed documents,
principals that do not exist ("Policy contains a statement with one or more invalid
principals."), the 32 KB limit (key-policy-overview.html, LimitExceededException) and the
lockout safety check ("The new key policy will not allow you to update the key policy in the
future.") unless BypassPolicyLockoutSafetyCheck is set."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from lab.labkit import APP, Lab, error


def policy(principal: object, action: object = "kms:*") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}
            ],
        }
    )


def put(lab: Lab, key: str, text: str, bypass: bool = False) -> None:
    lab.client("kms").put_key_policy(
        KeyId=key, PolicyName="default", Policy=text, BypassPolicyLockoutSafetyCheck=bypass
    )


def test_malformed_json(lab: Lab) -> None:
    key = lab.key()["Arn"]
    with pytest.raises(ClientError) as exc:
        put(lab, key, '{"Version": "2012-10-17", "Statement": [')
    assert error(exc)[0] == "MalformedPolicyDocumentException"


def test_invalid_principals(lab: Lab) -> None:
    key = lab.key()["Arn"]
    for principal in (
        {"AWS": f"arn:aws:iam::{APP}:role/ghost"},
        {"AWS": "AROAEXAMPLEORPHANED01"},
        {"AWS": f"arn:aws:iam::{APP}:role/*"},
    ):
        with pytest.raises(ClientError) as exc:
            put(
                lab,
                key,
                json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": f"arn:aws:iam::{APP}:root"},
                                "Action": "kms:*",
                                "Resource": "*",
                            },
                            {
                                "Effect": "Allow",
                                "Principal": principal,
                                "Action": "kms:Decrypt",
                                "Resource": "*",
                            },
                        ],
                    }
                ),
            )
        assert error(exc) == (
            "MalformedPolicyDocumentException",
            "Policy contains a statement with one or more invalid principals.",
        )
    role = lab.role("real")
    put(
        lab,
        key,
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{APP}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": role},
                        "Action": "kms:Decrypt",
                        "Resource": "*",
                    },
                ],
            }
        ),
    )


def test_size_limit(lab: Lab) -> None:
    key = lab.key()["Arn"]
    big = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "x" * 33000,
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{APP}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )
    with pytest.raises(ClientError) as exc:
        put(lab, key, big)
    assert error(exc)[0] == "LimitExceededException"


def test_lockout_safety_check(lab: Lab) -> None:
    key = lab.key()["Arn"]
    lockout = policy({"AWS": f"arn:aws:iam::{APP}:root"}, "kms:Decrypt")
    with pytest.raises(ClientError) as exc:
        put(lab, key, lockout)
    assert error(exc) == (
        "MalformedPolicyDocumentException",
        "The new key policy will not allow you to update the key policy in the future.",
    )
    with pytest.raises(ClientError) as exc:
        lab.client("kms").create_key(Policy=lockout)
    assert error(exc)[0] == "MalformedPolicyDocumentException"
    put(lab, key, lockout, bypass=True)
    assert json.loads(
        lab.client("kms").get_key_policy(KeyId=key, PolicyName="default")["Policy"]
    ) == json.loads(lockout)
