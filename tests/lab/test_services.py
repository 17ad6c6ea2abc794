"""What the lab does with each AWS service, tried with credentials the lab issued to a role
that may only use KMS: the services it knows keep working (for what the caller's policies
allow), and everything else is refused in the caller's protocol, never handed to the upstream
re-signed as the account's operator.

Expected shapes come from AWS pages, not from the lab:
- A request signed for another service than the endpoint serves: "Credential should be scoped
  to correct service" (SigV4 errors; InvalidSignatureException, HTTP 400, on the JSON front end:
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html;
  SignatureDoesNotMatch, HTTP 403, on the query protocols:
  https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html).
- sts:GetFederationToken and sts:GetAccessKeyInfo are IAM actions like any other
  (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html):
  a caller whose policies allow neither is refused with AccessDenied, HTTP 403 (STS CommonErrors).
- Refusals of the other services in their own shape: EC2 says UnauthorizedOperation with an
  HTTP 403 (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html;
  https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html); Logs,
  Organizations, CloudTrail and Health say AccessDeniedException, HTTP 400 (their CommonErrors pages).
- GetCallerIdentity needs no permission (API_GetCallerIdentity.html: "No permissions are
  required to perform this operation").
"""

from __future__ import annotations

from typing import Any

import botocore.exceptions
import moto.backends
import pytest

from lab import rawcall
from lab.labkit import APP, REGION, LabKit, allow


@pytest.fixture
def kms_only(moto_lab: LabKit) -> dict[str, str]:
    arn = moto_lab.role("kms-only", policy=allow(action="kms:*"))
    return moto_lab.assume(arn, "hostile")


def _queues() -> int:
    backend = moto.backends.get_backend("sqs")[APP][REGION]
    return len(backend.queues)


@pytest.mark.parametrize(
    ("service", "protocol", "operation", "body", "code", "status"),
    [
        # JSON 1.0 (DynamoDB), a target the lab has no service for.
        ("dynamodb", "json", "ListTables", b"{}", "InvalidSignatureException", 400),
        # Query (SNS, SQS): an Action the lab never serves.
        ("sns", "query", "CreateTopic", b"Action=CreateTopic&Name=x", "SignatureDoesNotMatch", 403),
        ("sqs", "query", "CreateQueue", b"Action=CreateQueue&QueueName=planted", None, 403),
    ],
)
def test_a_service_the_lab_does_not_know_is_refused_for_issued_and_operator_credentials(
    moto_lab: LabKit,
    kms_only: dict[str, str],
    service: str,
    protocol: str,
    operation: str,
    body: bytes,
    code: str | None,
    status: int,
) -> None:
    before = _queues()
    for creds in (kms_only, rawcall.operator()):
        headers_protocol = "json" if protocol == "json" else "query"
        if headers_protocol == "json":
            rawcall.JSON_TARGETS.setdefault("dynamodb", "DynamoDB_20120810")
        reply = rawcall.send(
            moto_lab.endpoint, service, creds, operation=operation, body=body,
            protocol=headers_protocol,
        )  # fmt: skip
        assert 400 <= reply.status < 500, reply.text
        assert reply.code, f"no AWS error code in {reply.text[:200]}"
        assert "Credential should be scoped to correct service" in reply.text
        if code is not None:
            assert (reply.code, reply.status) == (code, status)
    assert _queues() == before, "a refused request reached the upstream"


def test_s3_is_for_operators_only(moto_lab: LabKit, kms_only: dict[str, str]) -> None:
    with pytest.raises(botocore.exceptions.ClientError):
        moto_lab.client("s3", creds=kms_only).create_bucket(Bucket="planted-by-a-session")
    s3 = moto_lab.client("s3")
    assert "planted-by-a-session" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.create_bucket(Bucket="kmslab-trail-bucket")
    assert "kmslab-trail-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def _sts_error(call: Any) -> tuple[str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call()
    resp = exc.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def _refusal(call: Any) -> tuple[str, int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call()
    resp = exc.value.response
    return (
        resp["Error"]["Code"],
        resp["ResponseMetadata"]["HTTPStatusCode"],
        resp["Error"]["Message"],
    )


def test_sts_operations_the_lab_forwards_are_authorized_first(
    moto_lab: LabKit, kms_only: dict[str, str]
) -> None:
    sts = moto_lab.client("sts", creds=kms_only)
    assert sts.get_caller_identity()["Arn"].endswith(":assumed-role/kms-only/hostile")
    assert _sts_error(lambda: sts.get_federation_token(Name="escape")) == ("AccessDenied", 403)
    assert _sts_error(lambda: sts.get_access_key_info(AccessKeyId=kms_only["AccessKeyId"])) == (
        "AccessDenied",
        403,
    )
    # The same calls by a session its policies allow are forwarded and answered.
    arn = moto_lab.role("sts-reader", policy=allow(action="sts:GetAccessKeyInfo"))
    reader = moto_lab.client("sts", creds=moto_lab.assume(arn, "reader"))
    assert reader.get_access_key_info(AccessKeyId=kms_only["AccessKeyId"])["Account"] == APP


def test_known_services_keep_working_for_what_policies_allow(
    moto_lab: LabKit, kms_only: dict[str, str]
) -> None:
    kms = moto_lab.client("kms", creds=kms_only)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    # IAM, EC2, Logs, Organizations, CloudTrail: refused by the caller's policies, in each
    # service's own shape, not by the lab's routing.
    assert _sts_error(lambda: moto_lab.client("iam", creds=kms_only).list_roles())[0] == (
        "AccessDenied"
    )
    ec2 = moto_lab.client("ec2", creds=kms_only)
    # EC2: Client.UnauthorizedOperation, "an HTTP 403 response" (STS DecodeAuthorizationMessage,
    # EC2 errors-overview.html).
    refused = _refusal(lambda: ec2.describe_vpc_endpoints())
    assert refused[:2] == ("UnauthorizedOperation", 403)
    assert refused[2].startswith("You are not authorized to perform this operation.")
    assert "ec2:DescribeVpcEndpoints" in refused[2]
    for service, call in (
        ("logs", lambda c: c.describe_log_groups()),
        ("organizations", lambda c: c.describe_organization()),
        ("cloudtrail", lambda c: c.describe_trails()),
        ("health", lambda c: c.describe_events()),
    ):
        # The JSON services' CommonErrors: AccessDeniedException, HTTP Status Code: 400.
        code, status, message = _refusal(lambda: call(moto_lab.client(service, creds=kms_only)))  # noqa: B023
        assert (code, status) == ("AccessDeniedException", 400), service
        assert "is not authorized to perform" in message, service
    # Operators still reach all of them.
    assert "Roles" in moto_lab.client("iam").list_roles()
    assert "VpcEndpoints" in moto_lab.client("ec2").describe_vpc_endpoints()
