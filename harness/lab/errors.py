"""AWS-shaped errors raised inside the lab and rendered by the gateway in the caller's protocol.

The error classes, their codes, statuses and message templates live in `harness.aws.errors`;
these are the short names the lab's handlers raise them by.
"""

from __future__ import annotations

from harness.aws.errors import (
    AwsError,
    KmsInvalidState,
    NotFound,
    Validation,
)

__all__ = ["AwsError", "access_denied", "invalid_state", "not_found", "validation"]


def access_denied(message: str) -> AwsError:
    return AwsError("AccessDeniedException", message)


def not_found(message: str) -> AwsError:
    return NotFound(message)


def validation(message: str) -> AwsError:
    return Validation(message)


def invalid_state(message: str) -> AwsError:
    return KmsInvalidState(message)
