"""Tables of AWS operations: which KMS operations work across accounts, which a grant can allow,
which a key spec and key usage support, and which reads the evidence collectors may make.

Each table cites the AWS page it comes from; tests/aws/ checks them against the botocore
service models (operation names exist; every KMS operation whose API reference says
"Cross-account use: Yes" is in CROSS_ACCOUNT_OPERATIONS and no other).
"""

from __future__ import annotations

# KMS operations a principal may call on a key of another account (kms
# key-policy-modifying-external-accounts.html; each API reference's "Cross-account use: Yes").
# Permission for any other operation granted to another account has no effect.
CROSS_ACCOUNT_OPERATIONS = frozenset(
    {
        "CreateGrant",
        "Decapsulate",
        "Decrypt",
        "DeriveSharedSecret",
        "DescribeKey",
        "Encapsulate",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateMac",
        "GetKeyRotationStatus",
        "GetPublicKey",
        "ListGrants",
        "ReEncrypt",
        "RetireGrant",
        "RevokeGrant",
        "Sign",
        "Verify",
        "VerifyMac",
    }
)

# ReEncrypt is authorized as two IAM actions, one per key (kms-api-permissions-reference.html).
REENCRYPT_ACTIONS = ("ReEncryptFrom", "ReEncryptTo")


def actions_of(operation: str) -> tuple[str, ...]:
    """The KMS IAM action names (without the `kms:` prefix) an operation is authorized as."""
    return REENCRYPT_ACTIONS if operation == "ReEncrypt" else (operation,)


# The same set as IAM actions, lower-cased with the service prefix (`kms:decrypt`), the form
# the policy evaluator compares.
CROSS_ACCOUNT_ACTIONS = frozenset(
    "kms:" + action.lower() for op in CROSS_ACCOUNT_OPERATIONS for action in actions_of(op)
)
