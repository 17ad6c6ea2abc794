"""Cryptographic operations: Encrypt, Decrypt, ReEncrypt, data keys and key pairs, random bytes,
signatures, MACs and public keys.

Each `prepare_*` validates what AWS refuses before authorization and returns the request's
condition keys (kms:EncryptionContext:*, kms:EncryptionAlgorithm, ...); the handler gets the
key already resolved, authorized and state-checked (routes.py).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization

from harness.aws.errors import IncorrectKey
from harness.aws.operations import KEY_SPEC_USAGES
from harness.lab.errors import AwsError, validation
from harness.lab.kms import crypto
from harness.lab.kms.call import KmsCall
from harness.lab.kms.model import Key
from harness.lab.kms.specs import ECC_SIGNING, RSA_ENCRYPTION, RSA_SIGNING, b64

if TYPE_CHECKING:
    from harness.lab.kms.service import KmsService

RANDOM_SIZE = (
    "1 validation error detected: Value at 'numberOfBytes' failed to satisfy "
    "constraint: Member must have value less than or equal to 1024"
)


def crypto_context(ctx: dict[str, str], algorithm: str, tokens: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {f"kms:EncryptionContext:{k}": v for k, v in ctx.items()}
    if ctx:
        out["kms:EncryptionContextKeys"] = sorted(ctx)
    out["kms:EncryptionAlgorithm"] = algorithm
    out["_grant_tokens"] = tokens
    out["_encryption_context"] = ctx
    return out


def _algorithm(call: KmsCall, name: str = "EncryptionAlgorithm") -> str:
    return str(call.params.get(name) or "SYMMETRIC_DEFAULT")


def _must(key: Key | None) -> Key:
    if key is None:  # the route resolves a key before any handler of this module runs
        raise AssertionError("no key")
    return key


def _no_algorithm(key: Key, algorithm: str) -> AwsError:
    if key.spec == "SYMMETRIC_DEFAULT":
        return AwsError(
            "InvalidKeyUsageException",
            f"{key.arn} key usage is ENCRYPT_DECRYPT and does not support {algorithm}.",
        )
    return AwsError(
        "InvalidKeyUsageException",
        f"Supported algorithms for {key.spec} keys are {', '.join(RSA_ENCRYPTION)}.",
    )


def seal(key: Key, plaintext: bytes, ctx: dict[str, str], algorithm: str) -> bytes:
    assert key.material is not None
    if key.spec == "SYMMETRIC_DEFAULT":
        if algorithm != "SYMMETRIC_DEFAULT":
            raise _no_algorithm(key, algorithm)
        return crypto.seal(key.account, key.key_id, key.material, plaintext, ctx)
    if algorithm not in RSA_ENCRYPTION:
        raise _no_algorithm(key, algorithm)
    if ctx:
        raise validation("EncryptionContext is not supported for asymmetric keys.")
    return crypto.rsa_encrypt(key.material, algorithm, plaintext)


def unseal(key: Key, blob: bytes, ctx: dict[str, str], algorithm: str, from_ct: bool) -> bytes:
    """Decrypt `blob` with `key`; `from_ct`: the key was found from the ciphertext itself."""
    assert key.material is not None
    try:
        if key.spec == "SYMMETRIC_DEFAULT":
            if algorithm != "SYMMETRIC_DEFAULT":
                raise _no_algorithm(key, algorithm)
            account, key_id, _, _ = crypto.read_header(blob)
            if not from_ct and (account, key_id) != (key.account, key.key_id):
                raise IncorrectKey()
            return crypto.unseal(blob, key.material, ctx)
        if algorithm not in RSA_ENCRYPTION:
            raise _no_algorithm(key, algorithm)
        return crypto.rsa_decrypt(key.material, algorithm, blob)
    except crypto.CiphertextError as exc:
        raise AwsError("InvalidCiphertextException", "") from exc


# Encrypt, Decrypt, ReEncrypt ---------------------------------------------------------------------
def prepare_encrypt(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    call.blob("Plaintext")
    ctx = call.context()
    return crypto_context(ctx, _algorithm(call), svc.check_tokens(call))


def encrypt(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    svc.check_usage(key, call.operation)
    svc.dry_run(call)
    plaintext = call.blob("Plaintext")
    if not plaintext or len(plaintext) > 4096:
        raise validation(
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
            "Member must have length between 1 and 4096"
        )
    algorithm = _algorithm(call)
    blob = seal(key, plaintext, call.context(), algorithm)
    return {"CiphertextBlob": b64(blob), "KeyId": key.arn, "EncryptionAlgorithm": algorithm}


def prepare_decrypt(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    call.blob("CiphertextBlob")
    ctx = call.context()
    tokens = svc.check_tokens(call)
    algorithm = _algorithm(call)
    if not call.params.get("KeyId") and algorithm != "SYMMETRIC_DEFAULT":
        raise validation("KeyId is required for asymmetric decryption.")
    return crypto_context(ctx, algorithm, tokens)


def decrypt(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    blob, ctx, algorithm = call.blob("CiphertextBlob"), call.context(), _algorithm(call)
    from_ct = not call.params.get("KeyId")
    svc.check_usage(key, "Decrypt")
    if call.params.get("DryRun"):
        if "IGNORE_CIPHERTEXT" not in (call.params.get("DryRunModifiers") or []):
            unseal(key, blob, ctx, algorithm, from_ct)
        svc.dry_run(call)
    plaintext = unseal(key, blob, ctx, algorithm, from_ct)
    return {"KeyId": key.arn, "Plaintext": b64(plaintext), "EncryptionAlgorithm": algorithm}


def prepare_reencrypt(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    call.blob("CiphertextBlob")
    src_ctx = call.context("SourceEncryptionContext")
    call.context("DestinationEncryptionContext")
    tokens = svc.check_tokens(call)
    return crypto_context(src_ctx, _algorithm(call, "SourceEncryptionAlgorithm"), tokens)


def reencrypt(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    source = _must(found)
    blob = call.blob("CiphertextBlob")
    src_ctx = call.context("SourceEncryptionContext")
    dst_ctx = call.context("DestinationEncryptionContext")
    src_alg = _algorithm(call, "SourceEncryptionAlgorithm")
    dst_alg = _algorithm(call, "DestinationEncryptionAlgorithm")
    route = svc.routes["ReEncrypt"]
    dest = svc.key_for(
        call,
        route,
        call.params.get("DestinationKeyId"),
        crypto_context(dst_ctx, dst_alg, svc.check_tokens(call)),
        action="kms:ReEncryptTo",
    ).key
    svc.check_usage(source, "ReEncrypt")
    svc.check_usage(dest, "ReEncrypt")
    plaintext = unseal(source, blob, src_ctx, src_alg, not call.params.get("SourceKeyId"))
    svc.dry_run(call)
    out = seal(dest, plaintext, dst_ctx, dst_alg)
    return {
        "CiphertextBlob": b64(out),
        "SourceKeyId": source.arn,
        "KeyId": dest.arn,
        "SourceEncryptionAlgorithm": src_alg,
        "DestinationEncryptionAlgorithm": dst_alg,
    }


# data keys ----------------------------------------------------------------------------------------
def prepare_data_key(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    ctx = call.context()
    tokens = svc.check_tokens(call)
    spec = call.params.get("KeySpec")
    size = call.params.get("NumberOfBytes")
    if (spec and size) or (not spec and not size):
        raise validation("Please specify either number of bytes or key spec.")
    if size is not None and (not isinstance(size, int) or not 1 <= size <= 1024):
        raise validation(RANDOM_SIZE)
    if spec and spec not in ("AES_256", "AES_128"):
        raise validation(
            f"1 validation error detected: Value '{spec}' at 'keySpec' failed to satisfy "
            "constraint: Member must satisfy enum value set: [AES_256, AES_128]"
        )
    return crypto_context(ctx, "SYMMETRIC_DEFAULT", tokens)


def data_key(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    svc.check_usage(key, call.operation)
    svc.dry_run(call)
    spec, size = call.params.get("KeySpec"), call.params.get("NumberOfBytes")
    plaintext = os.urandom(size or (32 if spec == "AES_256" else 16))
    out = {
        "CiphertextBlob": b64(seal(key, plaintext, call.context(), "SYMMETRIC_DEFAULT")),
        "KeyId": key.arn,
    }
    if call.operation == "GenerateDataKey":
        out["Plaintext"] = b64(plaintext)
    return out


def prepare_data_key_pair(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    ctx = call.context()
    tokens = svc.check_tokens(call)
    spec = call.params.get("KeyPairSpec") or ""
    if spec not in KEY_SPEC_USAGES or spec == "SYMMETRIC_DEFAULT" or spec.startswith("HMAC"):
        raise validation(
            f"1 validation error detected: Value '{spec}' at 'keyPairSpec' failed to satisfy "
            "constraint: Member must satisfy enum value set"
        )
    return crypto_context(ctx, "SYMMETRIC_DEFAULT", tokens)


def data_key_pair(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    svc.check_usage(key, call.operation)
    if key.spec != "SYMMETRIC_DEFAULT":
        raise AwsError(
            "InvalidKeyUsageException",
            f"{key.arn} key spec is {key.spec} which is not valid for {call.operation}.",
        )
    svc.dry_run(call)
    spec = str(call.params["KeyPairSpec"])
    pair = crypto.Material(spec).private_key()
    private = pair.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = pair.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ctx = call.context()
    out = {
        "PrivateKeyCiphertextBlob": b64(seal(key, private, ctx, "SYMMETRIC_DEFAULT")),
        "PublicKey": b64(public),
        "KeyId": key.arn,
        "KeyPairSpec": spec,
    }
    if call.operation == "GenerateDataKeyPair":
        out["PrivateKeyPlaintext"] = b64(private)
    return out


def prepare_generate_random(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    size = call.params.get("NumberOfBytes")
    if not isinstance(size, int) or not 1 <= size <= 1024:
        raise validation(RANDOM_SIZE)
    return {}


def generate_random(svc: KmsService, call: KmsCall, _: Key | None) -> dict[str, Any]:
    return {"Plaintext": b64(os.urandom(int(call.params["NumberOfBytes"])))}


# signatures, MACs, public keys ---------------------------------------------------------------------
def prepare_signing(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    call.blob("Message")
    if call.operation == "Verify":
        call.blob("Signature")
    return {"kms:SigningAlgorithm": call.params.get("SigningAlgorithm") or ""}


def sign(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    svc.check_usage(key, "Sign")
    algorithm = call.params.get("SigningAlgorithm") or ""
    allowed = RSA_SIGNING if key.spec.startswith("RSA") else ECC_SIGNING.get(key.spec, [])
    if algorithm not in allowed:
        raise AwsError(
            "InvalidKeyUsageException",
            f"Algorithm {algorithm} is incompatible with key spec {key.spec}.",
        )
    svc.dry_run(call)
    assert key.material is not None
    digest = call.params.get("MessageType") == "DIGEST"
    signature = crypto.sign(key.material, algorithm, call.blob("Message"), digest=digest)
    return {"KeyId": key.arn, "Signature": b64(signature), "SigningAlgorithm": algorithm}


def verify(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    svc.check_usage(key, "Verify")
    algorithm = call.params.get("SigningAlgorithm") or ""
    svc.dry_run(call)
    assert key.material is not None
    if not crypto.verify(key.material, algorithm, call.blob("Message"), call.blob("Signature")):
        raise AwsError("KMSInvalidSignatureException", "")
    return {"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": algorithm}


def prepare_mac(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    call.blob("Message")
    if call.operation == "VerifyMac":
        call.blob("Mac")
    return {"kms:MacAlgorithm": call.params.get("MacAlgorithm") or ""}


def generate_mac(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    svc.check_usage(key, "GenerateMac")
    algorithm = call.params.get("MacAlgorithm") or ""
    svc.dry_run(call)
    assert key.material is not None
    mac = crypto.mac(key.material, algorithm, call.blob("Message"))
    return {"KeyId": key.arn, "Mac": b64(mac), "MacAlgorithm": algorithm}


def verify_mac(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    svc.check_usage(key, "VerifyMac")
    algorithm = call.params.get("MacAlgorithm") or ""
    svc.dry_run(call)
    assert key.material is not None
    if crypto.mac(key.material, algorithm, call.blob("Message")) != call.blob("Mac"):
        raise AwsError("KMSInvalidMacException", "")
    return {"KeyId": key.arn, "MacValid": True, "MacAlgorithm": algorithm}


def get_public_key(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    if key.spec == "SYMMETRIC_DEFAULT" or key.spec.startswith("HMAC"):
        raise AwsError(
            "UnsupportedOperationException",
            f"{key.arn} key spec is {key.spec} which is not valid for GetPublicKey.",
        )
    assert key.material is not None
    meta = svc.metadata(key)
    out = {
        "KeyId": key.arn,
        "PublicKey": b64(key.material.public_der()),
        "CustomerMasterKeySpec": key.spec,
        "KeySpec": key.spec,
        "KeyUsage": key.usage,
    }
    for name in ("EncryptionAlgorithms", "SigningAlgorithms", "KeyAgreementAlgorithms"):
        if name in meta:
            out[name] = meta[name]
    return out
