"""Operator credentials, issued credentials and who STS says the caller is.

Expectations: contract section 5; STS API reference (API_AssumeRole.html,
API_GetCallerIdentity.html, API_GetSessionToken.html); IAM User Guide
reference_identifiers.html (assumed-role ARNs name the role without its path);
"Common errors" (CommonErrors.html: UnrecognizedClientException / InvalidClientTokenId,
"The security token included in the request is invalid.").
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from lab.labkit import APP, OTHER, LabKit, allow, error


def test_operator_is_the_account_root(lab: LabKit) -> None:
    ident = lab.client("sts", OTHER).get_caller_identity()
    assert (ident["Account"], ident["Arn"]) == (OTHER, f"arn:aws:iam::{OTHER}:root")


def test_assumed_role_identity_and_path(lab: LabKit) -> None:
    role = lab.role("app", Path="/teams/")
    assert role == f"arn:aws:iam::{APP}:role/teams/app"
    creds = lab.assume(role, session="build-7")
    assert creds["AccessKeyId"].startswith("ASIA")
    ident = lab.client("sts", creds=creds).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{APP}:assumed-role/app/build-7"
    assert ident["Account"] == APP and ident["UserId"].endswith(":build-7")


def test_assume_missing_role_is_denied(lab: LabKit) -> None:
    with pytest.raises(ClientError) as exc:
        lab.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{APP}:role/ghost", RoleSessionName="s1"
        )
    assert error(exc) == (
        "AccessDenied",
        f"User: arn:aws:iam::{APP}:root is not authorized to perform: sts:AssumeRole on resource: "
        f"arn:aws:iam::{APP}:role/ghost",
    )


def test_issued_credentials_are_enforced_operator_are_not(lab: LabKit) -> None:
    key = lab.key()
    kms = lab.client("kms")
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    creds = lab.assume(lab.role("nothing"))
    with pytest.raises(ClientError) as exc:
        lab.client("kms", creds=creds).decrypt(CiphertextBlob=blob)
    code, message = error(exc)
    assert code == "AccessDeniedException"
    assert message.startswith(
        f"User: arn:aws:sts::{APP}:assumed-role/nothing/s1 is not authorized to perform: kms:Decrypt"
    )


def test_iam_user_access_key_is_enforced(lab: LabKit) -> None:
    iam = lab.client("iam")
    iam.create_user(UserName="alice")
    key = lab.key()
    new = iam.create_access_key(UserName="alice")["AccessKey"]
    creds = {"AccessKeyId": new["AccessKeyId"], "SecretAccessKey": new["SecretAccessKey"]}
    ident = lab.client("sts", creds=creds).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{APP}:user/alice"
    kms = lab.client("kms", creds=creds)
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    assert error(exc)[0] == "AccessDeniedException"
    iam.put_user_policy(
        UserName="alice", PolicyName="p", PolicyDocument=allow("kms:Encrypt", key["Arn"])
    )
    assert kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")["KeyId"] == key["Arn"]
    session = lab.client("sts", creds=creds).get_session_token()["Credentials"]
    assert (
        lab.client("kms", creds=session).encrypt(KeyId=key["Arn"], Plaintext=b"x")["KeyId"]
        == key["Arn"]
    )
    iam.delete_access_key(UserName="alice", AccessKeyId=new["AccessKeyId"])
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    assert error(exc) == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )


def test_unknown_credentials_are_rejected_in_each_protocol(lab: LabKit) -> None:
    bogus = {"AccessKeyId": "AKIAEXAMPLEEXAMPLE00", "SecretAccessKey": "x"}
    with pytest.raises(ClientError) as exc:
        lab.client("kms", creds=bogus).list_keys()
    assert error(exc) == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
    with pytest.raises(ClientError) as exc:
        lab.client("sts", creds=bogus).get_caller_identity()
    assert error(exc) == (
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )


def test_any_twelve_digit_account_works(lab: LabKit) -> None:
    key = lab.key(account="444455556666")
    assert key["AWSAccountId"] == "444455556666"
    assert key["Arn"].startswith("arn:aws:kms:us-east-1:444455556666:key/")


def test_iam_calls_with_issued_credentials_are_authorized(lab: LabKit) -> None:
    """reference_policies_evaluation-logic.html: without an Allow, IAM actions are implicitly
    denied (troubleshoot_access-denied.html message shape)."""
    reader = lab.assume(lab.role("reader", policy=allow(["iam:Get*", "iam:List*"])))
    iam = lab.client("iam", creds=reader)
    assert iam.get_role(RoleName="reader")["Role"]["RoleName"] == "reader"
    with pytest.raises(ClientError) as exc:
        iam.put_role_policy(RoleName="reader", PolicyName="x", PolicyDocument=allow())
    code, message = error(exc)
    assert code == "AccessDenied"
    assert message == (
        f"User: arn:aws:sts::{APP}:assumed-role/reader/s1 is not authorized to perform: iam:PutRolePolicy "
        f"on resource: arn:aws:iam::{APP}:role/reader because no identity-based policy allows the "
        "iam:PutRolePolicy action"
    )
    lab.admin.set_controls({"authorize_iam": False})
    iam.put_role_policy(RoleName="reader", PolicyName="x", PolicyDocument=allow())


def test_assume_role_needs_the_trust_policy_for_issued_callers(lab: LabKit) -> None:
    """API_AssumeRole.html: the role's trust policy must allow the caller; naming the account
    root delegates to the caller's IAM policies (id_roles_terms-and-concepts.html)."""
    import json

    iam = lab.client("iam")
    first = lab.role("first", policy=allow("sts:AssumeRole"))
    lonely = lab.role("lonely")
    trusts_first = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": first}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    target = iam.create_role(RoleName="target", AssumeRolePolicyDocument=trusts_first)["Role"][
        "Arn"
    ]
    assert lab.client("sts", creds=lab.assume(first)).assume_role(
        RoleArn=target, RoleSessionName="hop"
    )
    with pytest.raises(ClientError) as exc:
        lab.client("sts", creds=lab.assume(lonely)).assume_role(
            RoleArn=target, RoleSessionName="hop"
        )
    assert error(exc) == (
        "AccessDenied",
        f"User: arn:aws:sts::{APP}:assumed-role/lonely/s1 is not authorized to perform: sts:AssumeRole "
        f"on resource: {target}",
    )
    account_trust = lab.role("open")  # trusts the account root: the caller's IAM must allow
    with pytest.raises(ClientError):
        lab.client("sts", creds=lab.assume(lonely)).assume_role(
            RoleArn=account_trust, RoleSessionName="hop"
        )
    lab.client("sts", creds=lab.assume(first)).assume_role(
        RoleArn=account_trust, RoleSessionName="hop"
    )
    lab.assume(target)  # operators are never authorized by the lab
