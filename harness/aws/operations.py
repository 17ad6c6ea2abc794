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


# The operations a grant can allow, in the order of the API model's GrantOperation enum
# (API_CreateGrant.html), which is the order AWS lists them in its validation message.
GRANT_OPERATIONS = (
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "Encapsulate",
    "Decapsulate",
)

# Grant operations that take an encryption context, the only ones a grant's
# EncryptionContextEquals/EncryptionContextSubset constraint applies to
# (kms grants.html#grant-constraints).
ENCRYPTION_CONTEXT_GRANT_OPERATIONS = tuple(
    sorted(
        {
            "Decrypt",
            "Encrypt",
            "GenerateDataKey",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
            "GenerateDataKeyWithoutPlaintext",
            "ReEncryptFrom",
            "ReEncryptTo",
        }
    )
)

# The key usages each key spec the lab creates allows, the first one CreateKey's default
# (kms symm-asymm-choose-key-spec.html, API_CreateKey.html#KMS-CreateKey-request-KeyUsage).
KEY_SPEC_USAGES: dict[str, tuple[str, ...]] = {
    "SYMMETRIC_DEFAULT": ("ENCRYPT_DECRYPT",),
    "RSA_2048": ("ENCRYPT_DECRYPT", "SIGN_VERIFY"),
    "RSA_3072": ("ENCRYPT_DECRYPT", "SIGN_VERIFY"),
    "RSA_4096": ("ENCRYPT_DECRYPT", "SIGN_VERIFY"),
    "ECC_NIST_P256": ("SIGN_VERIFY", "KEY_AGREEMENT"),
    "ECC_NIST_P384": ("SIGN_VERIFY", "KEY_AGREEMENT"),
    "ECC_NIST_P521": ("SIGN_VERIFY", "KEY_AGREEMENT"),
    "ECC_SECG_P256K1": ("SIGN_VERIFY",),
    "HMAC_224": ("GENERATE_VERIFY_MAC",),
    "HMAC_256": ("GENERATE_VERIFY_MAC",),
    "HMAC_384": ("GENERATE_VERIFY_MAC",),
    "HMAC_512": ("GENERATE_VERIFY_MAC",),
}

# The key usage an operation needs (kms symm-asymm-compare.html); others work with any usage.
USAGE_OF_OPERATION: dict[str, str] = {
    "Encrypt": "ENCRYPT_DECRYPT",
    "Decrypt": "ENCRYPT_DECRYPT",
    "ReEncrypt": "ENCRYPT_DECRYPT",
    "GenerateDataKey": "ENCRYPT_DECRYPT",
    "GenerateDataKeyWithoutPlaintext": "ENCRYPT_DECRYPT",
    "GenerateDataKeyPair": "ENCRYPT_DECRYPT",
    "GenerateDataKeyPairWithoutPlaintext": "ENCRYPT_DECRYPT",
    "Sign": "SIGN_VERIFY",
    "Verify": "SIGN_VERIFY",
    "GenerateMac": "GENERATE_VERIFY_MAC",
    "VerifyMac": "GENERATE_VERIFY_MAC",
    "DeriveSharedSecret": "KEY_AGREEMENT",
    "Encapsulate": "ENCAPSULATE_DECAPSULATE",
    "Decapsulate": "ENCAPSULATE_DECAPSULATE",
}

# The same by lower-cased operation or IAM action name (`decrypt`, `reencryptfrom`), the form
# the diagnosis reads from an action such as `kms:ReEncryptFrom`.
USAGE_OF_ACTION: dict[str, str] = {
    name.lower(): usage
    for op, usage in USAGE_OF_OPERATION.items()
    for name in (op, *actions_of(op))
}

# Data keys come only from symmetric encryption keys (API_GenerateDataKey.html,
# API_GenerateDataKeyPair.html).
SYMMETRIC_ONLY_OPERATIONS = frozenset(
    {
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
    }
)

# Reads of a principal's IAM policies (inline, attached, through groups), as
# "<service>:<Operation>", the IAM action names too (IAM API reference).
IAM_PRINCIPAL_READS = (
    "iam:GetRole",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetUser",
    "iam:ListUserPolicies",
    "iam:GetUserPolicy",
    "iam:ListAttachedUserPolicies",
    "iam:ListGroupsForUser",
    "iam:ListGroupPolicies",
    "iam:GetGroupPolicy",
    "iam:ListAttachedGroupPolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
)

# Reads of the organization's SCPs and RCPs from the root down to an account.
ORGANIZATIONS_POLICY_READS = (
    "organizations:DescribeOrganization",
    "organizations:ListParents",
    "organizations:ListPoliciesForTarget",
    "organizations:DescribePolicy",
)

# Every read the evidence collectors may make, as "<service>:<Operation>". The service prefix
# is the boto3 service name, which for these services is also the IAM action prefix. The
# read-only guard refuses anything else; a meta-test checks each name against the service's
# botocore model and against the verbs no read starts with (MUTATING_PREFIXES).
READ_ONLY_OPERATIONS: frozenset[str] = frozenset(
    {
        "health:DescribeEvents",
        "sts:GetCallerIdentity",
        "kms:DescribeKey",
        "kms:ListKeyPolicies",
        "kms:GetKeyPolicy",
        "kms:ListAliases",
        "kms:ListGrants",
        "kms:GetKeyRotationStatus",
        "kms:ListKeyRotations",
        "kms:DescribeCustomKeyStores",
        "kms:ListResourceTags",
        *IAM_PRINCIPAL_READS,
        "cloudtrail:LookupEvents",
        "cloudtrail:DescribeTrails",
        "logs:FilterLogEvents",
        "ec2:DescribeVpcEndpoints",
        *ORGANIZATIONS_POLICY_READS,
    }
)

# Verbs no read operation starts with.
MUTATING_PREFIXES: tuple[str, ...] = (
    "Create", "Put", "Update", "Delete", "Enable", "Disable", "Schedule", "Cancel", "Tag",
    "Untag", "Revoke", "Retire", "Import", "Replicate", "Connect", "Disconnect", "Attach",
    "Detach", "Encrypt", "Decrypt", "ReEncrypt", "Generate", "Sign", "Verify", "Rotate",
    "Set", "Add", "Remove", "Modify", "Start", "Stop", "Assume", "Accept", "Reject", "Register",
)  # fmt: skip


# Verbs every read operation of the services kmslab reads starts with (and no write does): what
# a workshop participant may call freely, and which events CloudTrail marks readOnly.
READ_VERBS: tuple[str, ...] = ("Describe", "Get", "List", "Lookup", "Filter")

# KMS operations CloudTrail logs with "readOnly": true although they are not Describe/Get/List:
# the cryptographic operations (logging-using-cloudtrail.html event examples).
KMS_CLOUDTRAIL_READ_ONLY: tuple[str, ...] = (
    "Decrypt",
    "Encrypt",
    "ReEncrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateRandom",
    "Sign",
    "Verify",
    "GenerateMac",
    "VerifyMac",
)
