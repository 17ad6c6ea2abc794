"""One exception class per AWS error code kmslab serves (the lab) or reads (the diagnosis), with
AWS's message template and HTTP status.

`AwsError(code, message, status)` is any AWS error as boto3 shows it (Error.Code, Error.Message,
HTTP status); the classes below fix the code and status of the ones kmslab knows, and their
TEMPLATE is the text AWS answers with (placeholders in braces). The lab raises them; the
diagnosis reads the same texts back (`harness.diagnosis.messages`), so writer and reader cannot
drift. Codes and statuses come from each API reference's "Errors" section (KMS: every error is
400 but the retryable server-side ones, 500; DryRunOperationException 412), and tests/aws checks
them against the botocore service models.
"""

from __future__ import annotations

from typing import ClassVar


class AwsError(Exception):
    """An error AWS would return: `code` is the exception name boto3 shows as Error.Code."""

    def __init__(self, code: str, message: str = "", status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class KnownAwsError(AwsError):
    """An error code kmslab knows: its service, HTTP status and AWS's message template."""

    SERVICE: ClassVar[str] = "kms"
    CODE: ClassVar[str] = ""
    STATUS: ClassVar[int] = 400
    TEMPLATE: ClassVar[str] = ""

    def __init__(self, message: str | None = None, **fields: str) -> None:
        text = self.TEMPLATE.format(**fields) if message is None else message
        super().__init__(self.CODE, text, self.STATUS)


# KMS (kms/latest/APIReference/CommonErrors.html and each operation's "Errors") -------------------


class KmsAccessDenied(KnownAwsError):
    CODE = "AccessDeniedException"
    # Decrypt of a ciphertext whose key does not exist, is in another Region, or that the caller
    # may not use: AWS does not say which (catalog section 3, the ambiguous message).
    TEMPLATE = (
        "The ciphertext refers to a customer master key that does not exist, does not exist in "
        "this region, or you are not allowed to access."
    )


class NotFound(KnownAwsError):
    CODE = "NotFoundException"
    TEMPLATE = "Key '{arn}' does not exist"


class AliasNotFound(NotFound):
    TEMPLATE = "Alias {arn} is not found."


class InvalidArnNotFound(NotFound):
    """KMS answers a malformed or other-Region key ARN with NotFoundException."""

    TEMPLATE = "Invalid arn {arn}"


class Disabled(KnownAwsError):
    CODE = "DisabledException"
    TEMPLATE = "{arn} is disabled."


class KmsInvalidState(KnownAwsError):
    CODE = "KMSInvalidStateException"
    TEMPLATE = "{arn} is {state}."


# How the KMSInvalidStateException message names each key state (key-state.html).
KEY_STATE_WORDS = {
    "Disabled": "disabled",
    "PendingDeletion": "pending deletion",
    "PendingImport": "pending import",
    "Unavailable": "unavailable",
    "Creating": "creating",
    "Updating": "updating",
    "PendingReplicaDeletion": "pending replica deletion",
}


def key_state_error(arn: str, state: str) -> KnownAwsError:
    """AWS's error for an operation a key's state does not allow."""
    if state == "Disabled":
        return Disabled(arn=arn)
    return KmsInvalidState(arn=arn, state=KEY_STATE_WORDS.get(state, state))


class InvalidCiphertext(KnownAwsError):
    CODE = "InvalidCiphertextException"


class IncorrectKey(KnownAwsError):
    CODE = "IncorrectKeyException"
    TEMPLATE = "The key ID in the request does not identify a CMK that can perform this operation."


class InvalidKeyUsage(KnownAwsError):
    CODE = "InvalidKeyUsageException"


class InvalidGrantToken(KnownAwsError):
    CODE = "InvalidGrantTokenException"


class InvalidArn(KnownAwsError):
    CODE = "InvalidArnException"


class LimitExceeded(KnownAwsError):
    CODE = "LimitExceededException"


class MalformedPolicyDocument(KnownAwsError):
    CODE = "MalformedPolicyDocumentException"


class KmsInvalidSignature(KnownAwsError):
    CODE = "KMSInvalidSignatureException"


class KmsInvalidMac(KnownAwsError):
    CODE = "KMSInvalidMacException"


class IncorrectKeyMaterial(KnownAwsError):
    CODE = "IncorrectKeyMaterialException"


class InvalidImportToken(KnownAwsError):
    CODE = "InvalidImportTokenException"


class ExpiredImportToken(KnownAwsError):
    CODE = "ExpiredImportTokenException"


class Tag(KnownAwsError):
    CODE = "TagException"


class DependencyTimeout(KnownAwsError):
    CODE = "DependencyTimeoutException"
    STATUS = 500


class KmsInternal(KnownAwsError):
    CODE = "KMSInternalException"
    STATUS = 500


class KeyUnavailable(KnownAwsError):
    CODE = "KeyUnavailableException"
    STATUS = 500


# Errors every AWS JSON service answers (CommonErrors.html) -------------------------------------


class Validation(KnownAwsError):
    CODE = "ValidationException"


class Throttling(KnownAwsError):
    CODE = "ThrottlingException"
    TEMPLATE = (
        "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."
    )


class UnrecognizedClient(KnownAwsError):
    CODE = "UnrecognizedClientException"
    TEMPLATE = "The security token included in the request is invalid."


class UnknownOperation(KnownAwsError):
    CODE = "UnknownOperationException"


class Serialization(KnownAwsError):
    CODE = "SerializationException"


# STS and IAM (query protocol: the code has no "Exception" suffix) -------------------------------


class StsValidationError(KnownAwsError):
    SERVICE = "sts"
    CODE = "ValidationError"


class IamNoSuchEntity(KnownAwsError):
    SERVICE = "iam"
    CODE = "NoSuchEntity"
    STATUS = 404


class IamMalformedPolicyDocument(KnownAwsError):
    SERVICE = "iam"
    CODE = "MalformedPolicyDocument"


# Refusals of the other services, each in its own shape -----------------------------------------


class QueryAccessDenied(KnownAwsError):
    """IAM and STS (IAM/STS CommonErrors.html: AccessDenied, HTTP 403)."""

    SERVICE = "iam"
    CODE = "AccessDenied"
    STATUS = 403
    TEMPLATE = "{reason}"


class Ec2UnauthorizedOperation(KnownAwsError):
    """EC2 (errors-overview.html: Client.UnauthorizedOperation; "an HTTP 403 response",
    API_DecodeAuthorizationMessage.html). For Describe* calls, which carry no encoded message, the
    IAM reason follows EC2's own sentence [V: seen in AWS answers, no AWS page quotes the whole
    text]."""

    SERVICE = "ec2"
    CODE = "UnauthorizedOperation"
    STATUS = 403
    TEMPLATE = "You are not authorized to perform this operation. {reason}"


class JsonAccessDenied(KnownAwsError):
    """CloudWatch Logs, Organizations, CloudTrail and Health (their CommonErrors pages:
    AccessDeniedException, HTTP Status Code: 400)."""

    SERVICE = "logs"
    CODE = "AccessDeniedException"
    TEMPLATE = "{reason}"


# Every known class, by (service, code); the first declared wins for a shared code.
KNOWN: dict[tuple[str, str], type[KnownAwsError]] = {}
for _cls in list(globals().values()):
    if isinstance(_cls, type) and issubclass(_cls, KnownAwsError) and _cls.CODE:
        KNOWN.setdefault((_cls.SERVICE, _cls.CODE), _cls)
