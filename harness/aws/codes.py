"""Error codes AWS services use for request-rate throttling and for retryable failures."""

from __future__ import annotations

# Request-rate throttling codes of the services kmslab calls: KMS, CloudTrail and CloudWatch
# Logs answer ThrottlingException; IAM and STS Throttling; Organizations
# TooManyRequestsException; EC2 RequestLimitExceeded (each service's API reference, "Errors").
# A throttled read says nothing about the caller's permissions.
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
    }
)

# KMS errors whose API reference says the request can be retried: an internal error, a
# dependency (custom key store, replica) that timed out, a key that is temporarily unavailable.
RETRYABLE_KMS_CODES = frozenset(
    {"KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException"}
)
