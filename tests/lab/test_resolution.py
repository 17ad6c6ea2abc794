"""Key resolution, key usage and ciphertext checks.

Expectations: key-policy-modifying-external-accounts.html#cross-account-use (key ids and
alias names resolve in the caller's account; use the key ARN), API_Decrypt.html (KeyId is
optional for symmetric keys; IncorrectKeyException "The key ID in the request does not identify
a CMK that can perform this operation." — ct-decrypt.html; InvalidCiphertextException for a
damaged blob or a different encryption context — concepts.html#encrypt_context),
InvalidKeyUsageException for a SIGN_VERIFY key (API_Encrypt.html), and the KMS failure
catalog rows 14, 50, 53, 54, 55 for the NotFound and AccessDenied shapes.
"""

from __future__ import annotations

import base64

import pytest
from botocore.exceptions import ClientError

from lab.labkit import APP, OTHER, LabKit, error

CIPHERTEXT_NOT_FOUND = (
    "The ciphertext refers to a customer master key that does not exist, does not exist in this "
    "region, or you are not allowed to access."
)


def test_alias_and_key_id_resolve_in_callers_account(lab: LabKit) -> None:
    key = lab.key(account=OTHER)
    lab.client("kms", OTHER).create_alias(AliasName="alias/shared", TargetKeyId=key["KeyId"])
    kms = lab.client("kms")
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId="alias/shared")
    assert error(exc) == (
        "NotFoundException",
        f"Alias arn:aws:kms:us-east-1:{APP}:alias/shared is not found.",
    )
    with pytest.raises(ClientError) as exc:
        kms.describe_key(KeyId=key["KeyId"])
    assert error(exc) == (
        "NotFoundException",
        f"Key 'arn:aws:kms:us-east-1:{APP}:key/{key['KeyId']}' does not exist",
    )
    # an ARN routes to the owning account (operators are not subject to authorization)
    assert kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]["AWSAccountId"] == OTHER
    alias_arn = f"arn:aws:kms:us-east-1:{OTHER}:alias/shared"
    assert kms.describe_key(KeyId=alias_arn)["KeyMetadata"]["Arn"] == key["Arn"]


def test_wrong_region(lab: LabKit) -> None:
    key = lab.key()
    west = lab.client("kms", region="us-west-2")
    with pytest.raises(ClientError) as exc:
        west.describe_key(KeyId=key["Arn"])
    code, message = error(exc)
    assert code == "NotFoundException" and message.startswith("Invalid arn")
    with pytest.raises(ClientError) as exc:
        west.describe_key(KeyId=key["KeyId"])
    assert error(exc) == (
        "NotFoundException",
        f"Key 'arn:aws:kms:us-west-2:{APP}:key/{key['KeyId']}' does not exist",
    )
    blob = lab.client("kms").encrypt(KeyId=key["Arn"], Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        west.decrypt(CiphertextBlob=blob)
    assert error(exc) == ("AccessDeniedException", CIPHERTEXT_NOT_FOUND)


def test_incorrect_key_and_damaged_ciphertext(lab: LabKit) -> None:
    kms = lab.client("kms")
    one, two = lab.key(), lab.key()
    blob = kms.encrypt(KeyId=one["Arn"], Plaintext=b"secret", EncryptionContext={"a": "1"})[
        "CiphertextBlob"
    ]
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob, KeyId=two["Arn"], EncryptionContext={"a": "1"})
    assert error(exc) == (
        "IncorrectKeyException",
        "The key ID in the request does not identify a CMK that can perform this operation.",
    )
    damaged = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=damaged, EncryptionContext={"a": "1"})
    assert error(exc)[0] == "InvalidCiphertextException"
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob)
    assert error(exc)[0] == "InvalidCiphertextException"
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=base64.b64encode(blob), EncryptionContext={"a": "1"})
    assert error(exc)[0] == "InvalidCiphertextException"
    assert (
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "1"}, KeyId=one["KeyId"])[
            "Plaintext"
        ]
        == b"secret"
    )


def test_alias_update_leads_to_incorrect_key(lab: LabKit) -> None:
    kms = lab.client("kms")
    one, two = lab.key(), lab.key()
    kms.create_alias(AliasName="alias/app", TargetKeyId=one["KeyId"])
    blob = kms.encrypt(KeyId="alias/app", Plaintext=b"x")["CiphertextBlob"]
    kms.update_alias(AliasName="alias/app", TargetKeyId=two["KeyId"])
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob, KeyId="alias/app")
    assert error(exc)[0] == "IncorrectKeyException"
    aliases = kms.list_aliases(KeyId=two["KeyId"])["Aliases"]
    assert [a["AliasName"] for a in aliases] == ["alias/app"]
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName="alias/app", TargetKeyId=one["KeyId"])
    assert error(exc) == (
        "AlreadyExistsException",
        f"An alias with the name arn:aws:kms:us-east-1:{APP}:alias/app already exists",
    )


def test_key_usage(lab: LabKit) -> None:
    kms = lab.client("kms")
    signing = lab.key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=signing["Arn"], Plaintext=b"x")
    assert error(exc) == (
        "InvalidKeyUsageException",
        f"{signing['Arn']} key usage is SIGN_VERIFY which is not valid for Encrypt.",
    )
    sig = kms.sign(KeyId=signing["Arn"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")[
        "Signature"
    ]
    assert kms.verify(
        KeyId=signing["Arn"], Message=b"m", Signature=sig, SigningAlgorithm="ECDSA_SHA_256"
    )["SignatureValid"]
    rsa = lab.key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    with pytest.raises(ClientError) as exc:
        kms.generate_data_key(KeyId=rsa["Arn"], KeySpec="AES_256")
    assert error(exc)[0] == "InvalidKeyUsageException"
    blob = kms.encrypt(KeyId=rsa["Arn"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")[
        "CiphertextBlob"
    ]
    out = kms.decrypt(
        KeyId=rsa["Arn"], CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256"
    )
    assert out["Plaintext"] == b"x"
    hmac = lab.key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    mac = kms.generate_mac(KeyId=hmac["Arn"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert kms.verify_mac(KeyId=hmac["Arn"], Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_256")[
        "MacValid"
    ]


def test_reencrypt_and_data_keys(lab: LabKit) -> None:
    kms = lab.client("kms")
    one, two = lab.key(), lab.key()
    dk = kms.generate_data_key(KeyId=one["Arn"], KeySpec="AES_256", EncryptionContext={"x": "y"})
    assert len(dk["Plaintext"]) == 32
    moved = kms.re_encrypt(
        CiphertextBlob=dk["CiphertextBlob"],
        SourceEncryptionContext={"x": "y"},
        DestinationKeyId=two["Arn"],
    )
    assert moved["SourceKeyId"] == one["Arn"] and moved["KeyId"] == two["Arn"]
    assert kms.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == dk["Plaintext"]
    without = kms.generate_data_key_without_plaintext(KeyId=one["Arn"], NumberOfBytes=16)
    assert "Plaintext" not in without
    assert len(kms.generate_random(NumberOfBytes=12)["Plaintext"]) == 12


def test_aws_managed_alias_is_created_on_first_use(lab: LabKit) -> None:
    meta = lab.client("kms").describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    creds = lab.assume(lab.role("app"))
    with pytest.raises(ClientError) as exc:
        lab.client("kms", creds=creds).encrypt(KeyId="alias/aws/s3", Plaintext=b"x")
    assert error(exc)[0] == "AccessDeniedException"


def test_data_key_pair(lab: LabKit) -> None:
    kms = lab.client("kms")
    key = lab.key()
    pair = kms.generate_data_key_pair(
        KeyId=key["Arn"], KeyPairSpec="ECC_NIST_P256", EncryptionContext={"a": "b"}
    )
    plain = kms.decrypt(
        CiphertextBlob=pair["PrivateKeyCiphertextBlob"], EncryptionContext={"a": "b"}
    )["Plaintext"]
    assert plain == pair["PrivateKeyPlaintext"] and pair["KeyPairSpec"] == "ECC_NIST_P256"
    assert "PrivateKeyPlaintext" not in kms.generate_data_key_pair_without_plaintext(
        KeyId=key["Arn"], KeyPairSpec="ECC_NIST_P256"
    )
