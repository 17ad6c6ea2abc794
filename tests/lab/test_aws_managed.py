"""AWS managed keys (alias/aws/<service>), as AWS documents them.

- concepts.html#aws-managed-cmk: created in the account by the service, the first time it is
  used; usable only through that service (kms:ViaService) by principals of the account
  (kms:CallerAccount); KeyManager AWS.
- API_DescribeKey.html: "services use DescribeKey to create AWS managed keys from a predefined
  AWS alias with no key ID".
- key-policy-modifying.html, editing-keys.html: their policies are created and managed by the
  service; "You cannot edit any properties of AWS managed keys". The refusal is the key policy's
  (it allows the account only kms:Describe*/Get*/List* directly), so AWS answers with
  AccessDeniedException; its exact text for these calls is not documented [V].
- IAM troubleshoot_access-denied.html: "... because no resource-based policy allows the <action>
  action" when the resource policy (the key policy) does not allow.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from lab.labkit import APP, OTHER, LabKit, allow, error

VIA_S3 = {"X-Lab-Via-Service": "s3.us-east-1.amazonaws.com"}


def no_resource_policy(action: str) -> str:
    return f"because no resource-based policy allows the {action} action"


def test_first_reference_creates_the_key_with_the_documented_policy(lab: LabKit) -> None:
    kms = lab.client("kms")
    assert "alias/aws/s3" not in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    meta = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS" and meta["KeyState"] == "Enabled"
    assert meta["Arn"].startswith(f"arn:aws:kms:us-east-1:{APP}:key/")
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases["alias/aws/s3"] == meta["KeyId"]
    assert kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyId"] == meta["KeyId"]
    policy = json.loads(kms.get_key_policy(KeyId=meta["Arn"], PolicyName="default")["Policy"])
    via, direct = policy["Statement"]
    assert via["Principal"] == {"AWS": "*"} and "kms:Decrypt" in via["Action"]
    assert via["Condition"]["StringEquals"] == {
        "kms:CallerAccount": APP,
        "kms:ViaService": "s3.us-east-1.amazonaws.com",
    }
    assert direct["Principal"] == {"AWS": f"arn:aws:iam::{APP}:root"}
    assert sorted(direct["Action"]) == ["kms:Describe*", "kms:Get*", "kms:List*"]
    # GetKeyRotationStatus.html: the rotation status of AWS managed keys is always true
    assert kms.get_key_rotation_status(KeyId=meta["Arn"])["KeyRotationEnabled"] is True


def test_each_account_and_region_gets_its_own_key_through_the_service(lab: LabKit) -> None:
    role = lab.role("app", policy=allow())
    creds = lab.assume(role)
    via_ec2 = {"X-Lab-Via-Service": "ec2.us-west-2.amazonaws.com"}
    west = lab.client("kms", region="us-west-2", creds=creds, headers=via_ec2)
    # EBS calls KMS as EC2: aws/ebs allows ec2.<region>.amazonaws.com
    data_key = west.generate_data_key(KeyId="alias/aws/ebs", KeySpec="AES_256")
    assert ":us-west-2:" in data_key["KeyId"]
    east = lab.client("kms").describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
    other = lab.client("kms", OTHER).describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
    assert len({data_key["KeyId"], east["Arn"], other["Arn"]}) == 3


def test_direct_use_is_denied_even_with_full_iam_permissions(lab: LabKit) -> None:
    role = lab.role("app", policy=allow("kms:*", "*"))
    creds = lab.assume(role)
    through_s3 = lab.client("kms", creds=creds, headers=VIA_S3)
    blob = through_s3.encrypt(KeyId="alias/aws/s3", Plaintext=b"object")["CiphertextBlob"]
    direct = lab.client("kms", creds=creds)
    with pytest.raises(ClientError) as exc:
        direct.decrypt(CiphertextBlob=blob)
    code, message = error(exc)
    assert code == "AccessDeniedException"
    assert message.startswith(f"User: arn:aws:sts::{APP}:assumed-role/app/s1 is not authorized")
    assert message.endswith(no_resource_policy("kms:Decrypt"))
    assert through_s3.decrypt(CiphertextBlob=blob)["Plaintext"] == b"object"
    other_service = lab.client(
        "kms", creds=creds, headers={"X-Lab-Via-Service": "ssm.us-east-1.amazonaws.com"}
    )
    with pytest.raises(ClientError) as exc:
        other_service.decrypt(CiphertextBlob=blob)
    assert error(exc)[0] == "AccessDeniedException"
    # DescribeKey is allowed directly (Describe* for the account, delegated to IAM)
    assert direct.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyManager"] == "AWS"


def test_another_account_cannot_use_it(lab: LabKit) -> None:
    arn = lab.client("kms").describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["Arn"]
    outsider = lab.assume(lab.role("reader", OTHER, policy=allow("kms:*", "*")))
    kms = lab.client("kms", OTHER, creds=outsider, headers=VIA_S3)
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=arn, Plaintext=b"x")
    code, message = error(exc)
    assert code == "AccessDeniedException" and message.endswith(no_resource_policy("kms:Encrypt"))
    # Naming another account's AWS alias by ARN never creates a key in that account.
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId=f"arn:aws:kms:us-east-1:{APP}:alias/aws/rds")
    assert error(exc)[0] == "NotFoundException"
    names = [a["AliasName"] for a in lab.client("kms").list_aliases()["Aliases"]]
    assert "alias/aws/rds" not in names


@pytest.mark.parametrize("who", ["operator", "role"])
def test_nobody_can_change_it(lab: LabKit, who: str) -> None:
    if who == "operator":
        kms = lab.client("kms")
        caller = f"arn:aws:iam::{APP}:root"
    else:
        kms = lab.client("kms", creds=lab.assume(lab.role("admin", policy=allow("kms:*", "*"))))
        caller = f"arn:aws:sts::{APP}:assumed-role/admin/s1"
    arn = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["Arn"]
    policy = lab.client("kms").get_key_policy(KeyId=arn, PolicyName="default")["Policy"]
    attempts = {
        "kms:PutKeyPolicy": lambda: kms.put_key_policy(
            KeyId=arn,
            PolicyName="default",
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{APP}:root"},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                }
            ),
        ),
        "kms:DisableKey": lambda: kms.disable_key(KeyId=arn),
        "kms:ScheduleKeyDeletion": lambda: kms.schedule_key_deletion(
            KeyId=arn, PendingWindowInDays=7
        ),
        "kms:CreateGrant": lambda: kms.create_grant(
            KeyId=arn, GranteePrincipal=caller, Operations=["Decrypt"]
        ),
    }
    for action, attempt in attempts.items():
        with pytest.raises(ClientError) as exc:
            attempt()
        assert error(exc) == (
            "AccessDeniedException",
            f"User: {caller} is not authorized to perform: {action} on resource: {arn} "
            + no_resource_policy(action),
        )
    after = lab.client("kms").describe_key(KeyId=arn)["KeyMetadata"]
    assert after["KeyState"] == "Enabled"
    assert lab.client("kms").get_key_policy(KeyId=arn, PolicyName="default")["Policy"] == policy
