"""The error classes of harness.aws.errors against the botocore models, and the lab's texts read
back by the diagnosis (the writer and the reader share one template)."""

from __future__ import annotations

import pytest

from harness.aws import errors
from harness.aws.codes import RETRYABLE_KMS_CODES
from harness.diagnosis import messages

from . import models

# Errors every AWS JSON-protocol service may answer, which service models do not repeat
# (kms/latest/APIReference/CommonErrors.html; awsjson1_1 protocol: UnknownOperationException,
# SerializationException).
COMMON = {
    "AccessDeniedException",
    "ValidationException",
    "ThrottlingException",
    "UnrecognizedClientException",
    "UnknownOperationException",
    "SerializationException",
    "ValidationError",  # the query protocol's spelling (STS, IAM)
    "AccessDenied",  # IAM/STS CommonErrors.html
    "UnauthorizedOperation",  # EC2 errors-overview.html (the EC2 model declares no errors)
}

KNOWN = sorted(errors.KNOWN.values(), key=lambda cls: (cls.SERVICE, cls.CODE))
MODELED = [cls for cls in KNOWN if cls.CODE not in COMMON]


def test_common_errors_are_not_in_the_kms_model_and_the_rest_are() -> None:
    kms = set(models.error_shapes("kms"))
    assert not {cls.CODE for cls in KNOWN if cls.CODE in COMMON} & kms
    assert {cls.CODE for cls in KNOWN if cls.SERVICE == "kms"} - COMMON <= kms


@pytest.mark.parametrize("cls", MODELED, ids=lambda cls: f"{cls.SERVICE}:{cls.CODE}")
def test_code_and_status_are_the_models(cls: type[errors.KnownAwsError]) -> None:
    by_code = {
        (shape.metadata.get("error") or {}).get("code", shape.name): shape
        for shape in models.error_shapes(cls.SERVICE).values()
    }
    assert cls.CODE in by_code, f"{cls.SERVICE} has no error {cls.CODE}"
    modeled = (by_code[cls.CODE].metadata.get("error") or {}).get("httpStatusCode")
    if modeled is not None:  # query-protocol models carry the status
        assert modeled == cls.STATUS, cls.CODE


def test_kms_server_errors_are_the_retryable_ones() -> None:
    # KMS answers 500 for exactly the errors its reference says can be retried.
    server = {cls.CODE for cls in KNOWN if cls.SERVICE == "kms" and cls.STATUS >= 500}
    assert server == RETRYABLE_KMS_CODES


def test_instances_carry_code_status_and_template() -> None:
    arn = "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error = errors.NotFound(arn=arn)
    assert (error.code, error.status, error.message) == (
        "NotFoundException",
        400,
        f"Key '{arn}' does not exist",
    )
    assert isinstance(error, errors.AwsError)
    assert errors.KmsInternal("boom").status == 500
    assert errors.Throttling().message.startswith("You have exceeded the rate")


def test_other_services_refuse_in_their_own_shape() -> None:
    reason = "User: arn:aws:sts::111122223333:assumed-role/r/s is not authorized to perform: x:Y"
    assert (errors.QueryAccessDenied(reason=reason).code, errors.QueryAccessDenied.STATUS) == (
        "AccessDenied",
        403,
    )
    ec2 = errors.Ec2UnauthorizedOperation(reason=reason)
    assert (ec2.code, ec2.status) == ("UnauthorizedOperation", 403)
    assert ec2.message == f"You are not authorized to perform this operation. {reason}"
    logs = errors.JsonAccessDenied(reason=reason)
    assert (logs.code, logs.status, logs.message) == ("AccessDeniedException", 400, reason)


@pytest.mark.parametrize("state", sorted(errors.KEY_STATE_WORDS))
def test_diagnosis_reads_the_key_state_the_lab_writes(state: str) -> None:
    # key-state.html: the state names of DescribeKey's KeyState enum.
    assert state in models.enum("kms", "KeyState")
    error = errors.key_state_error("arn:aws:kms:us-east-1:111122223333:key/k", state)
    expected = "DisabledException" if state == "Disabled" else "KMSInvalidStateException"
    assert error.code == expected
    assert messages.parse(error.code, error.message).state == state


def test_diagnosis_reads_the_lab_s_not_found_and_ambiguous_texts() -> None:
    arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    nf = errors.NotFound(arn=arn)
    assert messages.parse(nf.code, nf.message).not_found_arn == arn
    alias = "arn:aws:kms:us-east-1:111122223333:alias/app"
    anf = errors.AliasNotFound(arn=alias)
    assert messages.parse(anf.code, anf.message).not_found_arn == alias
    bad = errors.InvalidArnNotFound(arn="arn:aws:kms:eu-west-1:111122223333:key/x")
    assert messages.parse(bad.code, bad.message).invalid_arn
    denied = errors.KmsAccessDenied()
    signal = messages.parse(denied.code, denied.message)
    assert signal.denied and signal.ambiguous
