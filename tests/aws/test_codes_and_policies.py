"""Throttling and retryable codes and the default key policy against botocore and AWS's pages."""

from __future__ import annotations

import re

from botocore.retries import standard

from harness.aws.codes import RETRYABLE_KMS_CODES, THROTTLING_CODES
from harness.aws.policies import AWS_MANAGED_SERVICES, aws_managed_policy, default_key_policy

from . import models


def test_throttling_codes_are_codes_botocore_retries_as_throttling() -> None:
    botocore_throttled = standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES
    assert set(botocore_throttled) >= THROTTLING_CODES
    # KMS's own (requests-per-second.html) and IAM/STS's query-protocol code.
    assert {"ThrottlingException", "Throttling"} <= THROTTLING_CODES


def test_retryable_kms_codes_are_the_errors_the_kms_model_says_can_be_retried() -> None:
    # Each KMS error shape's documentation says "You can retry the request" or "The request can
    # be retried" for exactly the retryable ones.
    documented = {
        name
        for name, shape in models.error_shapes("kms").items()
        if re.search(r"can retry the request|request can be retried", shape.documentation or "")
    }
    assert documented == RETRYABLE_KMS_CODES


def test_default_key_policy_is_the_documented_one() -> None:
    # key-policy-default.html: one statement, Sid "Enable IAM User Permissions", the account's
    # root principal, "kms:*" on "*".
    policy = default_key_policy("111122223333")
    (statement,) = policy["Statement"]
    assert statement["Sid"] == "Enable IAM User Permissions"
    assert statement["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == (
        "Allow",
        "kms:*",
        "*",
    )
    assert policy["Version"] == "2012-10-17"
    assert default_key_policy("444455556666") != policy  # the account is not baked in


def test_aws_managed_keys_allow_their_services_endpoint() -> None:
    # kms:ViaService names "<endpoint prefix>.<region>.amazonaws.com" (conditions-kms.html
    # #conditions-kms-via-service); each service's prefix is its botocore model's endpointPrefix.
    import botocore.session

    session = botocore.session.get_session()
    prefixes = {
        session.get_service_model(name).metadata.get("endpointPrefix")
        for name in session.get_available_services()
    }
    assert set(AWS_MANAGED_SERVICES.values()) <= prefixes
    policy = aws_managed_policy("111122223333", "us-east-1", "ebs")
    condition = policy["Statement"][0]["Condition"]["StringEquals"]
    assert condition == {
        "kms:CallerAccount": "111122223333",
        "kms:ViaService": "ec2.us-east-1.amazonaws.com",
    }


def test_an_account_trust_policy_names_only_the_accounts_root_for_assume_role() -> None:
    # Naming the account root delegates the trust to the account's IAM policies (IAM User Guide,
    # reference_policies_elements_principal.html, "AWS account principals").
    from harness.aws.policies import account_trust_policy

    (statement,) = account_trust_policy("111122223333")["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "sts:AssumeRole",
    }
