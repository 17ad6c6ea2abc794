"""AWS-shaped errors raised inside the lab and rendered by the gateway in the caller's protocol."""

from __future__ import annotations


class AwsError(Exception):
    """An error AWS would return: `code` is the exception name boto3 shows as Error.Code."""

    def __init__(self, code: str, message: str = "", status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def access_denied(message: str) -> AwsError:
    return AwsError("AccessDeniedException", message)


def not_found(message: str) -> AwsError:
    return AwsError("NotFoundException", message)


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def invalid_state(message: str) -> AwsError:
    return AwsError("KMSInvalidStateException", message)


THROTTLING_MESSAGE = (
    "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."
)
INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid."
