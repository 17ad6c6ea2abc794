"""The one ARN and principal parser, on the principal forms the IAM User Guide shows
(reference_policies_elements_principal.html, reference_identifiers.html)."""

from __future__ import annotations

import json
import os

import botocore
import pytest

from harness.aws import arns


def test_partitions_are_botocores() -> None:
    path = os.path.join(os.path.dirname(botocore.__file__), "data", "partitions.json")
    with open(path, encoding="utf-8") as fh:
        ids = {p["id"] for p in json.load(fh)["partitions"]}
    assert ids == arns.PARTITIONS


@pytest.mark.parametrize(
    ("text", "kind", "account", "name", "session", "path"),
    [
        # "AWS account principals": the account ARN and the bare id mean the same.
        ("arn:aws:iam::123456789012:root", "root", "123456789012", "root", "", "/"),
        ("123456789012", "root", "123456789012", "root", "", "/"),
        # "IAM role principals", with and without a path.
        ("arn:aws:iam::123456789012:role/role-name", "role", "123456789012", "role-name", "", "/"),
        (
            "arn:aws:iam::123456789012:role/division_abc/subdivision_xyz/ProdApp",
            "role",
            "123456789012",
            "ProdApp",
            "",
            "/division_abc/subdivision_xyz/",
        ),
        # "Role session principals".
        (
            "arn:aws:sts::123456789012:assumed-role/role-name/role-session-name",
            "assumed-role",
            "123456789012",
            "role-name",
            "role-session-name",
            "/",
        ),
        ("arn:aws:iam::123456789012:user/user-name", "user", "123456789012", "user-name", "", "/"),
        (
            "arn:aws:sts::123456789012:federated-user/user-name",
            "federated-user",
            "123456789012",
            "user-name",
            "",
            "/",
        ),
        # "AWS service principals".
        ("ecs.amazonaws.com", "service", "", "ecs.amazonaws.com", "", "/"),
        # A deleted role's unique id stays in the policy (principal-roles).
        ("AROADBQP57FF2AEXAMPLE", "unique-id", "", "AROADBQP57FF2AEXAMPLE", "", "/"),
    ],
)
def test_principal_forms(
    text: str, kind: str, account: str, name: str, session: str, path: str
) -> None:
    who = arns.principal(text)
    assert (who.kind, who.account, who.name, who.session, who.path) == (
        kind,
        account,
        name,
        session,
        path,
    )
    assert who.arn == text


def test_other_partitions_and_role_behind_a_session() -> None:
    who = arns.principal("arn:aws-cn:sts::123456789012:assumed-role/app/s1")
    assert who.partition == "aws-cn"
    assert who.role_arn == "arn:aws-cn:iam::123456789012:role/app"
    assert who.role_name == "app" and who.user_name is None


def test_account_root_is_the_account_principal_in_its_partition() -> None:
    # reference_policies_elements_principal.html: "arn:aws:iam::123456789012:root" stands for
    # the account; in aws-cn and aws-us-gov the partition is part of the ARN.
    assert arns.account_root("123456789012") == "arn:aws:iam::123456789012:root"
    gov = arns.principal(arns.account_root("123456789012", "aws-us-gov"))
    assert (gov.kind, gov.partition, gov.account) == ("root", "aws-us-gov", "123456789012")


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:sts::123456789012:assumed-role/only-role",  # no session name
        "arn:aws:iam::123456789012:group/admins",  # groups are not principals
        "arn:aws:s3:::bucket",
        "arn:aws:iam::12345:role/short-account",
        "not an arn",
        "*",
    ],
)
def test_what_is_not_a_principal_is_other(text: str) -> None:
    assert arns.principal(text).kind == "other"


def test_unique_ids_by_documented_prefix() -> None:
    # reference_identifiers.html, "Understanding unique ID prefixes".
    assert arns.unique_id_kind("AROADBQP57FF2AEXAMPLE") == "role"
    assert arns.unique_id_kind("AIDAJQABLZS4A3QDU576Q") == "user"
    assert arns.unique_id_kind("AKIAIOSFODNN7EXAMPLE") == "access-key"
    assert arns.unique_id_kind("AROA") is None
    assert arns.unique_id_kind("XXXXDBQP57FF2AEXAMPLE") is None


def test_iam_principal_arn_syntax() -> None:
    assert arns.iam_principal_arn("arn:aws:iam::123456789012:role/x") is not None
    assert arns.iam_principal_arn("arn:aws:iam:us-east-1:123456789012:role/x") is None  # region
    assert arns.iam_principal_arn("arn:aws:kms::123456789012:key/x") is None
    assert arns.iam_principal_arn("arn:nope:iam::123456789012:role/x") is None


def test_arn_parts_and_key_ids() -> None:
    # API_Encrypt.html's example key ARN and key id.
    arn = arns.parse("arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert arn is not None
    assert (arn.partition, arn.service, arn.region, arn.account) == (
        "aws",
        "kms",
        "us-east-2",
        "111122223333",
    )
    assert (arn.resource_type, arn.resource_id) == ("key", "1234abcd-12ab-34cd-56ef-1234567890ab")
    assert arns.is_key_id("1234abcd-12ab-34cd-56ef-1234567890ab")
    assert arns.is_key_id("mrk-1234abcd12ab34cd56ef1234567890ab")
    assert not arns.is_key_id("alias/ExampleAlias")
    assert arns.account_of("arn:aws:kms:us-east-2:111122223333:alias/ExampleAlias") == (
        "111122223333"
    )
    assert arns.region_of("arn:aws:kms:us-east-2:111122223333:alias/ExampleAlias") == "us-east-2"
    assert arns.parse("alias/ExampleAlias") is None
