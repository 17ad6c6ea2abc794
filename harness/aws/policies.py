"""Policy documents AWS itself writes."""

from __future__ import annotations

from typing import Any


def default_key_policy(account: str) -> dict[str, Any]:
    """The key policy KMS gives a key created without one (kms key-policy-default.html): the
    account's root principal may do everything, which lets IAM policies grant access."""
    return {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
