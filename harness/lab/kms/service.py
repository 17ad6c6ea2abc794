"""KMS operations of the lab: resolution, authorization, key state, usage, then the work.

Every key operation runs in this order: resolve the key (NotFound shapes), authorize the
caller (skipped for operator credentials), check the key state (applies to everyone),
check key usage, then do the cryptography (IncorrectKey, InvalidCiphertext).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import os
from collections.abc import Callable
from typing import Any

from harness.aws.operations import CROSS_ACCOUNT_OPERATIONS, KEY_SPEC_USAGES, USAGE_OF_OPERATION
from harness.aws.policies import default_key_policy
from harness.lab.controls import Controls
from harness.lab.errors import AwsError, access_denied, not_found, validation
from harness.lab.kms import crypto, keystate
from harness.lab.kms.call import Authorizer, KmsCall, PrincipalCheck, ServiceEvent
from harness.lab.kms.model import Grant, Key, KmsStore, now
from harness.lab.kms.policycheck import validate_key_policy
from harness.lab.kms.resolve import Resolved, resolve

CIPHERTEXT_NOT_FOUND = (
    "The ciphertext refers to a customer master key that does not exist, does not exist in "
    "this region, or you are not allowed to access."
)
INCORRECT_KEY = "The key ID in the request does not identify a CMK that can perform this operation."
SYMMETRIC_ALGORITHMS = ["SYMMETRIC_DEFAULT"]
RSA_ENCRYPTION = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
RSA_SIGNING = [
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
]
ECC_SIGNING = {
    "ECC_NIST_P256": ["ECDSA_SHA_256"],
    "ECC_NIST_P384": ["ECDSA_SHA_384"],
    "ECC_NIST_P521": ["ECDSA_SHA_512"],
    "ECC_SECG_P256K1": ["ECDSA_SHA_256"],
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def ts(value: dt.datetime | None) -> float | None:
    return value.timestamp() if value else None


class KmsService:
    """The KMS API of the lab over a KmsStore."""

    def __init__(
        self,
        store: KmsStore,
        controls: Controls,
        authorize: Authorizer,
        principal_exists: PrincipalCheck,
        service_event: ServiceEvent,
    ) -> None:
        self.store = store
        self.controls = controls
        self.authorize = authorize
        self.principal_exists = principal_exists
        self.service_event = service_event
        from harness.lab.kms import grants, lifecycle, material

        self.handlers: dict[str, Callable[[KmsCall], dict[str, Any]]] = {}
        for module in (self, lifecycle, grants, material):
            for name, fn in _operations(module, self).items():
                self.handlers[name] = fn

    # dispatch ------------------------------------------------------------------------------
    def handle(self, call: KmsCall) -> dict[str, Any]:
        handler = self.handlers.get(call.operation)
        if handler is None:
            raise AwsError(
                "UnknownOperationException", f"The lab does not implement kms:{call.operation}"
            )
        return handler(call)

    # shared steps ----------------------------------------------------------------------------
    def key_for(
        self,
        call: KmsCall,
        given: str | None,
        action: str,
        context: dict[str, Any] | None = None,
        *,
        state_check: bool = True,
    ) -> Resolved:
        """Resolve, authorize and state-check the key an operation names."""
        with self.store.lock:
            resolved = resolve(self.store, call.principal.account, call.region, given or "")
        key = resolved.key
        call.resources.append(key.arn)
        call.key_account = key.account
        if key.account != call.principal.account and call.operation not in CROSS_ACCOUNT_OPERATIONS:
            raise access_denied(
                f"User: {call.principal.arn} is not authorized to perform: {action} on resource: "
                f"{key.arn} because no resource-based policy allows the {action} action"
            )
        ctx = dict(context or {})
        if resolved.alias:
            ctx.setdefault("kms:RequestAlias", resolved.alias)
        self.authorize(call, key, action, ctx, by_ciphertext=False)
        if state_check:
            keystate.check(call.operation, key.arn, self.state_of(key))
        return resolved

    def state_of(self, key: Key) -> str:
        forced = self.controls.key_state(key.arn)
        if forced:
            return forced
        with self.store.lock:
            self._expire_material(key)
            if key.custom_key_store_id and key.state not in ("PendingDeletion",):
                store = self.store.stores.get(key.custom_key_store_id)
                if store is not None and self.connection(store)["ConnectionState"] != "CONNECTED":
                    return "Unavailable"
            return key.state

    def connection(self, store: Any) -> dict[str, Any]:
        override = self.controls.store_override(store.store_id, store.name)
        if override:
            return override
        out = {"ConnectionState": store.state}
        if store.error_code:
            out["ConnectionErrorCode"] = store.error_code
        return out

    def _expire_material(self, key: Key) -> None:
        if (
            key.expiration_model == "KEY_MATERIAL_EXPIRES"
            and key.valid_to is not None
            and key.valid_to <= now()
            and key.state in ("Enabled", "Disabled")
        ):
            key.state = "PendingImport"
            key.material = None
            key.valid_to = None
            self.service_event(key, "DeleteExpiredKeyMaterial", {"keyId": key.arn})

    def usable_key(self, call: KmsCall, action: str, context: dict[str, Any] | None = None) -> Key:
        """The key a cryptographic operation names, resolved, authorized, state-checked and
        fit for the operation's key usage."""
        key = self.key_for(call, call.params.get("KeyId"), action, context).key
        self.check_usage(key, call.operation)
        return key

    def check_usage(self, key: Key, operation: str) -> None:
        wanted = USAGE_OF_OPERATION.get(operation)
        if wanted and key.usage != wanted:
            raise AwsError(
                "InvalidKeyUsageException",
                f"{key.arn} key usage is {key.usage} which is not valid for {operation}.",
            )
        if (
            operation.startswith("GenerateDataKey")
            and "Pair" not in operation
            and key.spec != "SYMMETRIC_DEFAULT"
        ):
            raise AwsError(
                "InvalidKeyUsageException",
                f"{key.arn} key spec is {key.spec} which is not valid for {operation}.",
            )

    def check_tokens(self, call: KmsCall) -> list[str]:
        tokens = call.params.get("GrantTokens") or []
        if not isinstance(tokens, list) or len(tokens) > 10:
            raise validation(
                "1 validation error detected: Value at 'grantTokens' failed to satisfy "
                "constraint: Member must have length less than or equal to 10"
            )
        with self.store.lock:
            for token in tokens:
                if token not in self.store.grant_tokens:
                    raise AwsError("InvalidGrantTokenException", "The grant token is invalid.")
        return [str(t) for t in tokens]

    def effective_grants(self, key: Key, tokens: list[str]) -> list[Grant]:
        """Grants that count for this request: propagated, or named by a token passed."""
        delay = self.controls.grant_propagation_for(key.account)
        cutoff = now() - dt.timedelta(seconds=delay)
        with self.store.lock:
            token_ids = {
                self.store.grant_tokens[t].grant_id for t in tokens if t in self.store.grant_tokens
            }
            return [
                g
                for g in key.grants
                if not g.orphaned and (g.created <= cutoff or g.grant_id in token_ids)
            ]

    def orphan_principal(self, arn: str, unique_id: str) -> None:
        """A deleted role or user: key policies now show its unique id and its grants stop
        working, as in AWS (reference_policies_elements_principal.html: a recreated principal
        with the same name is a different principal)."""
        quoted = json.dumps(arn)
        with self.store.lock:
            for key in self.store.keys.values():
                if quoted in key.policy:
                    key.policy = key.policy.replace(quoted, json.dumps(unique_id))
                for grant in key.grants:
                    if grant.grantee == arn:
                        grant.orphaned = True

    def dry_run(self, call: KmsCall) -> None:
        if call.params.get("DryRun"):
            raise AwsError(
                "DryRunOperationException",
                "The request would have succeeded, but the DryRun option is set.",
            )

    def metadata(self, key: Key) -> dict[str, Any]:
        state = self.state_of(key)
        meta: dict[str, Any] = {
            "AWSAccountId": key.account,
            "KeyId": key.key_id,
            "Arn": key.arn,
            "CreationDate": ts(key.created),
            "Enabled": state == "Enabled",
            "Description": key.description,
            "KeyUsage": key.usage,
            "KeyState": state,
            "Origin": key.origin,
            "KeyManager": key.manager,
            "CustomerMasterKeySpec": key.spec,
            "KeySpec": key.spec,
            "MultiRegion": key.multi_region is not None,
        }
        if key.usage == "ENCRYPT_DECRYPT":
            meta["EncryptionAlgorithms"] = (
                SYMMETRIC_ALGORITHMS if key.spec == "SYMMETRIC_DEFAULT" else RSA_ENCRYPTION
            )
        if key.usage == "SIGN_VERIFY":
            meta["SigningAlgorithms"] = (
                RSA_SIGNING if key.spec.startswith("RSA") else ECC_SIGNING[key.spec]
            )
        if key.usage == "GENERATE_VERIFY_MAC":
            meta["MacAlgorithms"] = [f"HMAC_SHA_{key.spec.split('_')[1]}"]
        if key.usage == "KEY_AGREEMENT":
            meta["KeyAgreementAlgorithms"] = ["ECDH"]
        if key.deletion_date and state in ("PendingDeletion", "PendingReplicaDeletion"):
            meta["DeletionDate"] = ts(key.deletion_date)
            meta["PendingDeletionWindowInDays"] = key.pending_window
        if key.origin == "EXTERNAL":
            if key.expiration_model:
                meta["ExpirationModel"] = key.expiration_model
            if key.valid_to:
                meta["ValidTo"] = ts(key.valid_to)
        if key.custom_key_store_id:
            meta["CustomKeyStoreId"] = key.custom_key_store_id
            store = self.store.stores.get(key.custom_key_store_id)
            if store is not None and store.cluster_id:
                meta["CloudHsmClusterId"] = store.cluster_id
        if key.multi_region is not None:
            mr = key.multi_region
            arn = lambda region: key.arn.replace(f":{key.region}:", f":{region}:", 1)  # noqa: E731
            meta["MultiRegionConfiguration"] = {
                "MultiRegionKeyType": "PRIMARY" if mr.primary_region == key.region else "REPLICA",
                "PrimaryKey": {"Arn": arn(mr.primary_region), "Region": mr.primary_region},
                "ReplicaKeys": [
                    {"Arn": arn(r), "Region": r} for r in mr.regions if r != mr.primary_region
                ],
            }
        return meta

    def check_policy(self, call: KmsCall, policy: Any, bypass: bool, key_arn: str) -> None:
        validate_key_policy(
            policy,
            call.principal,
            key_arn,
            bypass,
            self.principal_exists,
            self.authorize.lockout_allows,
        )

    # crypto --------------------------------------------------------------------------------
    def op_Encrypt(self, call: KmsCall) -> dict[str, Any]:
        plaintext = call.blob("Plaintext")
        ctx = call.context()
        tokens = self.check_tokens(call)
        algorithm = call.params.get("EncryptionAlgorithm") or "SYMMETRIC_DEFAULT"
        key = self.usable_key(call, "kms:Encrypt", self._crypto_context(ctx, algorithm, tokens))
        self.dry_run(call)
        if not plaintext or len(plaintext) > 4096:
            raise validation(
                "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
                "Member must have length between 1 and 4096"
            )
        blob = self._encrypt(key, plaintext, ctx, algorithm)
        return {"CiphertextBlob": b64(blob), "KeyId": key.arn, "EncryptionAlgorithm": algorithm}

    def _encrypt(self, key: Key, plaintext: bytes, ctx: dict[str, str], algorithm: str) -> bytes:
        assert key.material is not None
        if key.spec == "SYMMETRIC_DEFAULT":
            if algorithm != "SYMMETRIC_DEFAULT":
                raise AwsError(
                    "InvalidKeyUsageException",
                    f"{key.arn} key usage is ENCRYPT_DECRYPT and does not support {algorithm}.",
                )
            return crypto.seal(key.account, key.key_id, key.material, plaintext, ctx)
        if algorithm not in RSA_ENCRYPTION:
            raise AwsError(
                "InvalidKeyUsageException",
                f"Supported algorithms for {key.spec} keys are {', '.join(RSA_ENCRYPTION)}.",
            )
        if ctx:
            raise validation("EncryptionContext is not supported for asymmetric keys.")
        return crypto.rsa_encrypt(key.material, algorithm, plaintext)

    @staticmethod
    def _crypto_context(ctx: dict[str, str], algorithm: str, tokens: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {f"kms:EncryptionContext:{k}": v for k, v in ctx.items()}
        if ctx:
            out["kms:EncryptionContextKeys"] = sorted(ctx)
        out["kms:EncryptionAlgorithm"] = algorithm
        out["_grant_tokens"] = tokens
        out["_encryption_context"] = ctx
        return out

    def _key_from_ciphertext(
        self, call: KmsCall, blob: bytes, given: str | None, action: str, ctx: dict[str, Any]
    ) -> tuple[Key, bool]:
        """The key a ciphertext names (and whether it came from the ciphertext)."""
        if given:
            resolved = self.key_for(call, given, action, ctx)
            return resolved.key, False
        try:
            account, key_id, _, _ = crypto.read_header(blob)
        except crypto.CiphertextError as exc:
            raise AwsError("InvalidCiphertextException", "") from exc
        with self.store.lock:
            key = self.store.get(account, call.region, key_id)
        if key is None or (
            key.account != call.principal.account and call.operation not in CROSS_ACCOUNT_OPERATIONS
        ):
            raise access_denied(CIPHERTEXT_NOT_FOUND)
        call.resources.append(key.arn)
        call.key_account = key.account
        self.authorize(call, key, action, ctx, by_ciphertext=True)
        keystate.check(call.operation, key.arn, self.state_of(key))
        return key, True

    def _decrypt(
        self,
        call: KmsCall,
        key: Key,
        blob: bytes,
        ctx: dict[str, str],
        algorithm: str,
        from_ciphertext: bool,
    ) -> bytes:
        if key.spec == "SYMMETRIC_DEFAULT":
            if algorithm != "SYMMETRIC_DEFAULT":
                raise AwsError(
                    "InvalidKeyUsageException",
                    f"{key.arn} key usage is ENCRYPT_DECRYPT and does not support {algorithm}.",
                )
            try:
                account, key_id, _, _ = crypto.read_header(blob)
            except crypto.CiphertextError as exc:
                raise AwsError("InvalidCiphertextException", "") from exc
            if not from_ciphertext and (account, key_id) != (key.account, key.key_id):
                raise AwsError("IncorrectKeyException", INCORRECT_KEY)
            assert key.material is not None
            try:
                return crypto.unseal(blob, key.material, ctx)
            except crypto.CiphertextError as exc:
                raise AwsError("InvalidCiphertextException", "") from exc
        if algorithm not in RSA_ENCRYPTION:
            raise AwsError(
                "InvalidKeyUsageException",
                f"Supported algorithms for {key.spec} keys are {', '.join(RSA_ENCRYPTION)}.",
            )
        assert key.material is not None
        try:
            return crypto.rsa_decrypt(key.material, algorithm, blob)
        except crypto.CiphertextError as exc:
            raise AwsError("InvalidCiphertextException", "") from exc

    def op_Decrypt(self, call: KmsCall) -> dict[str, Any]:
        blob = call.blob("CiphertextBlob")
        ctx = call.context()
        tokens = self.check_tokens(call)
        algorithm = call.params.get("EncryptionAlgorithm") or "SYMMETRIC_DEFAULT"
        given = call.params.get("KeyId")
        if not given and algorithm != "SYMMETRIC_DEFAULT":
            raise validation("KeyId is required for asymmetric decryption.")
        key, from_ct = self._key_from_ciphertext(
            call, blob, given, "kms:Decrypt", self._crypto_context(ctx, algorithm, tokens)
        )
        self.check_usage(key, "Decrypt")
        if call.params.get("DryRun"):
            modifiers = call.params.get("DryRunModifiers") or []
            if "IGNORE_CIPHERTEXT" not in modifiers:
                self._decrypt(call, key, blob, ctx, algorithm, from_ct)
            self.dry_run(call)
        plaintext = self._decrypt(call, key, blob, ctx, algorithm, from_ct)
        return {"KeyId": key.arn, "Plaintext": b64(plaintext), "EncryptionAlgorithm": algorithm}

    def op_ReEncrypt(self, call: KmsCall) -> dict[str, Any]:
        blob = call.blob("CiphertextBlob")
        src_ctx = call.context("SourceEncryptionContext")
        dst_ctx = call.context("DestinationEncryptionContext")
        tokens = self.check_tokens(call)
        src_alg = call.params.get("SourceEncryptionAlgorithm") or "SYMMETRIC_DEFAULT"
        dst_alg = call.params.get("DestinationEncryptionAlgorithm") or "SYMMETRIC_DEFAULT"
        source, from_ct = self._key_from_ciphertext(
            call,
            blob,
            call.params.get("SourceKeyId"),
            "kms:ReEncryptFrom",
            self._crypto_context(src_ctx, src_alg, tokens),
        )
        dest = self.key_for(
            call,
            call.params.get("DestinationKeyId"),
            "kms:ReEncryptTo",
            self._crypto_context(dst_ctx, dst_alg, tokens),
        ).key
        self.check_usage(source, "ReEncrypt")
        self.check_usage(dest, "ReEncrypt")
        plaintext = self._decrypt(call, source, blob, src_ctx, src_alg, from_ct)
        self.dry_run(call)
        out = self._encrypt(dest, plaintext, dst_ctx, dst_alg)
        return {
            "CiphertextBlob": b64(out),
            "SourceKeyId": source.arn,
            "KeyId": dest.arn,
            "SourceEncryptionAlgorithm": src_alg,
            "DestinationEncryptionAlgorithm": dst_alg,
        }

    def _data_key(self, call: KmsCall, with_plaintext: bool) -> dict[str, Any]:
        ctx = call.context()
        tokens = self.check_tokens(call)
        spec = call.params.get("KeySpec")
        size = call.params.get("NumberOfBytes")
        if spec and size:
            raise validation("Please specify either number of bytes or key spec.")
        if not spec and not size:
            raise validation("Please specify either number of bytes or key spec.")
        if size is not None and (not isinstance(size, int) or not 1 <= size <= 1024):
            raise validation(
                "1 validation error detected: Value at 'numberOfBytes' failed to satisfy "
                "constraint: Member must have value less than or equal to 1024"
            )
        if spec and spec not in ("AES_256", "AES_128"):
            raise validation(
                f"1 validation error detected: Value '{spec}' at 'keySpec' failed to satisfy "
                "constraint: Member must satisfy enum value set: [AES_256, AES_128]"
            )
        action = "kms:" + call.operation
        key = self.usable_key(call, action, self._crypto_context(ctx, "SYMMETRIC_DEFAULT", tokens))
        self.dry_run(call)
        plaintext = os.urandom(size or (32 if spec == "AES_256" else 16))
        out = {
            "CiphertextBlob": b64(self._encrypt(key, plaintext, ctx, "SYMMETRIC_DEFAULT")),
            "KeyId": key.arn,
        }
        if with_plaintext:
            out["Plaintext"] = b64(plaintext)
        return out

    def op_GenerateDataKey(self, call: KmsCall) -> dict[str, Any]:
        return self._data_key(call, True)

    def op_GenerateDataKeyWithoutPlaintext(self, call: KmsCall) -> dict[str, Any]:
        return self._data_key(call, False)

    def _data_key_pair(self, call: KmsCall, with_plaintext: bool) -> dict[str, Any]:
        ctx = call.context()
        tokens = self.check_tokens(call)
        spec = call.params.get("KeyPairSpec") or ""
        if spec not in KEY_SPEC_USAGES or spec == "SYMMETRIC_DEFAULT" or spec.startswith("HMAC"):
            raise validation(
                f"1 validation error detected: Value '{spec}' at 'keyPairSpec' failed to satisfy "
                "constraint: Member must satisfy enum value set"
            )
        key = self.usable_key(
            call, "kms:" + call.operation, self._crypto_context(ctx, "SYMMETRIC_DEFAULT", tokens)
        )
        if key.spec != "SYMMETRIC_DEFAULT":
            raise AwsError(
                "InvalidKeyUsageException",
                f"{key.arn} key spec is {key.spec} which is not valid for {call.operation}.",
            )
        self.dry_run(call)
        from cryptography.hazmat.primitives import serialization

        from harness.lab.kms.crypto import Material

        pair = Material(spec).private_key()
        private = pair.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public = pair.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        out = {
            "PrivateKeyCiphertextBlob": b64(self._encrypt(key, private, ctx, "SYMMETRIC_DEFAULT")),
            "PublicKey": b64(public),
            "KeyId": key.arn,
            "KeyPairSpec": spec,
        }
        if with_plaintext:
            out["PrivateKeyPlaintext"] = b64(private)
        return out

    def op_GenerateDataKeyPair(self, call: KmsCall) -> dict[str, Any]:
        return self._data_key_pair(call, True)

    def op_GenerateDataKeyPairWithoutPlaintext(self, call: KmsCall) -> dict[str, Any]:
        return self._data_key_pair(call, False)

    def op_GenerateRandom(self, call: KmsCall) -> dict[str, Any]:
        size = call.params.get("NumberOfBytes")
        if not isinstance(size, int) or not 1 <= size <= 1024:
            raise validation(
                "1 validation error detected: Value at 'numberOfBytes' failed to satisfy "
                "constraint: Member must have value less than or equal to 1024"
            )
        self.authorize(call, None, "kms:GenerateRandom", {}, by_ciphertext=False)
        return {"Plaintext": b64(os.urandom(size))}

    def op_Sign(self, call: KmsCall) -> dict[str, Any]:
        message = call.blob("Message")
        algorithm = call.params.get("SigningAlgorithm") or ""
        key = self.usable_key(call, "kms:Sign", {"kms:SigningAlgorithm": algorithm})
        allowed = RSA_SIGNING if key.spec.startswith("RSA") else ECC_SIGNING.get(key.spec, [])
        if algorithm not in allowed:
            raise AwsError(
                "InvalidKeyUsageException",
                f"Algorithm {algorithm} is incompatible with key spec {key.spec}.",
            )
        self.dry_run(call)
        assert key.material is not None
        digest = call.params.get("MessageType") == "DIGEST"
        signature = crypto.sign(key.material, algorithm, message, digest=digest)
        return {"KeyId": key.arn, "Signature": b64(signature), "SigningAlgorithm": algorithm}

    def op_Verify(self, call: KmsCall) -> dict[str, Any]:
        message = call.blob("Message")
        signature = call.blob("Signature")
        algorithm = call.params.get("SigningAlgorithm") or ""
        key = self.usable_key(call, "kms:Verify", {"kms:SigningAlgorithm": algorithm})
        self.dry_run(call)
        assert key.material is not None
        if not crypto.verify(key.material, algorithm, message, signature):
            raise AwsError("KMSInvalidSignatureException", "")
        return {"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": algorithm}

    def op_GenerateMac(self, call: KmsCall) -> dict[str, Any]:
        message = call.blob("Message")
        algorithm = call.params.get("MacAlgorithm") or ""
        key = self.usable_key(call, "kms:GenerateMac", {"kms:MacAlgorithm": algorithm})
        self.dry_run(call)
        assert key.material is not None
        return {
            "KeyId": key.arn,
            "Mac": b64(crypto.mac(key.material, algorithm, message)),
            "MacAlgorithm": algorithm,
        }

    def op_VerifyMac(self, call: KmsCall) -> dict[str, Any]:
        message = call.blob("Message")
        mac = call.blob("Mac")
        algorithm = call.params.get("MacAlgorithm") or ""
        key = self.usable_key(call, "kms:VerifyMac", {"kms:MacAlgorithm": algorithm})
        self.dry_run(call)
        assert key.material is not None
        if crypto.mac(key.material, algorithm, message) != mac:
            raise AwsError("KMSInvalidMacException", "")
        return {"KeyId": key.arn, "MacValid": True, "MacAlgorithm": algorithm}

    def op_GetPublicKey(self, call: KmsCall) -> dict[str, Any]:
        key = self.key_for(call, call.params.get("KeyId"), "kms:GetPublicKey").key
        if key.spec == "SYMMETRIC_DEFAULT" or key.spec.startswith("HMAC"):
            raise AwsError(
                "UnsupportedOperationException",
                f"{key.arn} key spec is {key.spec} which is not valid for GetPublicKey.",
            )
        assert key.material is not None
        meta = self.metadata(key)
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


def _operations(module: Any, service: KmsService) -> dict[str, Callable[[KmsCall], dict[str, Any]]]:
    """`op_<Operation>` functions of a module (taking the service) or methods of the service."""
    out: dict[str, Callable[[KmsCall], dict[str, Any]]] = {}
    for name in dir(module):
        if not name.startswith("op_"):
            continue
        fn = getattr(module, name)
        if module is service:
            out[name[3:]] = fn
        else:
            out[name[3:]] = functools.partial(fn, service)
    return out


def policy_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def not_found_grant(grant_id: str) -> AwsError:
    return not_found(f"Grant ID {grant_id} not found")


def default_policy_text(account: str) -> str:
    return json.dumps(default_key_policy(account))
