"""ListAliases is authorized by IAM policy alone, with or without KeyId.

API_ListAliases.html: "Required permissions: kms:ListAliases (IAM policy)" and "Cross-account use:
No." The key named by KeyId only filters the answer: its key policy neither allows nor blocks the
call. (Found by the iam-simulate differential over the lab's decisions, tests/policy.)
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from lab.labkit import LabKit, allow, error


def _key_only_for(lab: LabKit, principal: str) -> dict[str, str]:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "kms:*", "Resource": "*"}
        ],
    }
    key = lab.key(Policy=json.dumps(policy), BypassPolicyLockoutSafetyCheck=True)
    lab.client("kms").create_alias(AliasName="alias/listed", TargetKeyId=key["KeyId"])
    return key


def test_iam_allow_lists_aliases_of_a_key_whose_policy_ignores_the_caller(moto_lab: LabKit) -> None:
    key = _key_only_for(moto_lab, moto_lab.role("someone-else"))
    role = moto_lab.role("lister", policy=allow("kms:ListAliases"))
    kms = moto_lab.client("kms", creds=moto_lab.assume(role))
    names = [a["AliasName"] for a in kms.list_aliases(KeyId=key["Arn"])["Aliases"]]
    assert names == ["alias/listed"]


def test_a_key_policy_allow_does_not_stand_in_for_the_iam_permission(moto_lab: LabKit) -> None:
    role = moto_lab.role("no-iam", policy=allow("kms:DescribeKey"))
    key = _key_only_for(moto_lab, role)
    kms = moto_lab.client("kms", creds=moto_lab.assume(role))
    with pytest.raises(ClientError) as exc:
        kms.list_aliases(KeyId=key["Arn"])
    code, message = error(exc)
    assert code == "AccessDeniedException"
    assert "kms:ListAliases" in message
