"""Which operations a key state allows, and AWS's exception and message when it does not.

From the key-state table of the KMS Developer Guide
(https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html).
"""

from __future__ import annotations

from harness.aws.errors import key_state_error
from harness.lab.errors import AwsError

CRYPTO_OPERATIONS = frozenset(
    {
        "Encrypt",
        "Decrypt",
        "ReEncrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "Sign",
        "Verify",
        "GenerateMac",
        "VerifyMac",
        "GetPublicKey",
        "DeriveSharedSecret",
        "CreateGrant",
    }
)
# Operations that work in every key state.
ANY_STATE = frozenset(
    {
        "DescribeKey",
        "GetKeyPolicy",
        "PutKeyPolicy",
        "ListKeyPolicies",
        "ListGrants",
        "ListRetirableGrants",
        "RetireGrant",
        "RevokeGrant",
        "ListResourceTags",
        "GetKeyRotationStatus",
        "ListKeyRotations",
        "ListAliases",
        "DeleteAlias",
    }
)


def check(operation: str, arn: str, state: str) -> None:
    """Raise AWS's error when `operation` is not allowed on a key in `state`."""
    if state == "Enabled" or operation in ANY_STATE:
        return
    if operation in CRYPTO_OPERATIONS:
        raise key_state_error(arn, state)
    if operation == "CancelKeyDeletion":
        if state not in ("PendingDeletion", "PendingReplicaDeletion"):
            raise AwsError("KMSInvalidStateException", f"{arn} is not pending deletion.")
        return
    if state in ("Creating", "Updating"):
        raise key_state_error(arn, state)
    if state in ("PendingDeletion", "PendingReplicaDeletion"):
        if operation in ("ImportKeyMaterial", "DeleteImportedKeyMaterial", "ReplicateKey"):
            raise key_state_error(arn, state)
        if operation not in ("GetParametersForImport",):
            raise key_state_error(arn, state)
        return
    if state == "Disabled":
        if operation in ("EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand"):
            raise key_state_error(arn, state)
        return
    if (
        state in ("PendingImport", "Unavailable")
        and operation
        in (
            "EnableKey",
            "DisableKey",
            "EnableKeyRotation",
            "DisableKeyRotation",
            "RotateKeyOnDemand",
        )
        and not (state == "Unavailable" and operation in ("EnableKey", "DisableKey"))
    ):
        raise key_state_error(arn, state)
