"""The lab's ciphertext format and key material.

A symmetric ciphertext blob names the key's account and id (not its Region, so a
multi-Region replica decrypts its primary's ciphertext) and the material version, then
carries AES-256-GCM output with the encryption context as additional authenticated data.
The first bytes follow the public shape of raw KMS blobs (01 02 02 00 78).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"\x01\x02\x02\x00\x78"


class CiphertextError(Exception):
    """The blob is damaged, not a lab blob, or the context does not match."""


@dataclass
class Material:
    """Key material shared by a key and (for multi-Region keys) its replicas."""

    spec: str
    versions: list[bytes] = field(default_factory=list)
    _private: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def generate(cls, spec: str) -> Material:
        material = cls(spec)
        if spec == "SYMMETRIC_DEFAULT":
            material.versions.append(os.urandom(32))
        elif spec.startswith("HMAC_"):
            material.versions.append(os.urandom(int(spec.split("_")[1]) // 8))
        return material

    def private_key(self) -> Any:
        """The asymmetric private key, generated on first use (RSA generation is slow)."""
        with self._lock:
            if self._private is None:
                if self.spec.startswith("RSA_"):
                    self._private = rsa.generate_private_key(65537, int(self.spec.split("_")[1]))
                else:
                    curve = {
                        "ECC_NIST_P256": ec.SECP256R1(),
                        "ECC_NIST_P384": ec.SECP384R1(),
                        "ECC_NIST_P521": ec.SECP521R1(),
                        "ECC_SECG_P256K1": ec.SECP256K1(),
                    }[self.spec]
                    self._private = ec.generate_private_key(curve)
            return self._private

    def public_der(self) -> bytes:
        return bytes(
            self.private_key()
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


def context_aad(context: dict[str, str] | None) -> bytes:
    return json.dumps(context or {}, sort_keys=True, separators=(",", ":")).encode()


def seal(
    account: str, key_id: str, material: Material, plaintext: bytes, context: dict[str, str] | None
) -> bytes:
    version = len(material.versions) - 1
    header = MAGIC + account.encode() + bytes([len(key_id)]) + key_id.encode() + bytes([version])
    nonce = os.urandom(12)
    sealed = AESGCM(material.versions[version]).encrypt(
        nonce, plaintext, header + context_aad(context)
    )
    return header + nonce + sealed


def read_header(blob: bytes) -> tuple[str, str, int, int]:
    """(account, key id, material version, offset of the nonce) or CiphertextError."""
    if len(blob) < len(MAGIC) + 12 + 1 + 1 + 12 + 16 or not blob.startswith(MAGIC):
        raise CiphertextError("not a lab ciphertext")
    pos = len(MAGIC)
    account = blob[pos : pos + 12]
    pos += 12
    length = blob[pos]
    pos += 1
    key_id = blob[pos : pos + length]
    pos += length
    if pos + 1 + 12 + 16 > len(blob) or not account.isdigit():
        raise CiphertextError("truncated")
    version = blob[pos]
    try:
        return account.decode(), key_id.decode("ascii"), version, pos + 1
    except UnicodeDecodeError as exc:
        raise CiphertextError("bad key id") from exc


def unseal(blob: bytes, material: Material, context: dict[str, str] | None) -> bytes:
    _, _, version, offset = read_header(blob)
    if version >= len(material.versions):
        raise CiphertextError("unknown material version")
    nonce = blob[offset : offset + 12]
    try:
        return AESGCM(material.versions[version]).decrypt(
            nonce, blob[offset + 12 :], blob[:offset] + context_aad(context)
        )
    except InvalidTag as exc:
        raise CiphertextError("authentication failed") from exc


OAEP_HASHES = {"RSAES_OAEP_SHA_1": hashes.SHA1, "RSAES_OAEP_SHA_256": hashes.SHA256}


def rsa_encrypt(material: Material, algorithm: str, plaintext: bytes) -> bytes:
    h = OAEP_HASHES[algorithm]
    return bytes(
        material.private_key()
        .public_key()
        .encrypt(plaintext, padding.OAEP(padding.MGF1(h()), h(), None))
    )


def rsa_decrypt(material: Material, algorithm: str, blob: bytes) -> bytes:
    h = OAEP_HASHES[algorithm]
    try:
        return bytes(
            material.private_key().decrypt(blob, padding.OAEP(padding.MGF1(h()), h(), None))
        )
    except ValueError as exc:
        raise CiphertextError("RSA decryption failed") from exc


def _sig_hash(algorithm: str) -> Any:
    return {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[algorithm[-3:]]


def sign(material: Material, algorithm: str, message: bytes, digest: bool = False) -> bytes:
    key = material.private_key()
    h = _sig_hash(algorithm)
    if digest:
        h = Prehashed(h)
    if algorithm.startswith("ECDSA"):
        return bytes(key.sign(message, ec.ECDSA(h)))
    if algorithm.startswith("RSASSA_PSS"):
        return bytes(key.sign(message, padding.PSS(padding.MGF1(h), h.digest_size), h))
    return bytes(key.sign(message, padding.PKCS1v15(), h))


def verify(material: Material, algorithm: str, message: bytes, signature: bytes) -> bool:
    pub = material.private_key().public_key()
    h = _sig_hash(algorithm)
    try:
        if algorithm.startswith("ECDSA"):
            pub.verify(signature, message, ec.ECDSA(h))
        elif algorithm.startswith("RSASSA_PSS"):
            pub.verify(signature, message, padding.PSS(padding.MGF1(h), h.digest_size), h)
        else:
            pub.verify(signature, message, padding.PKCS1v15(), h)
    except InvalidSignature:
        return False
    return True


def mac(material: Material, algorithm: str, message: bytes) -> bytes:
    h = hmac.HMAC(material.versions[-1], _sig_hash(algorithm))
    h.update(message)
    return h.finalize()
