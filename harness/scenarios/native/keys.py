"""KMS keys: key policies, creation (custom key stores, imported material, replicas) and key
states."""

from __future__ import annotations

import base64
import copy
import json
import os
from typing import Any

from harness.aws.policies import default_key_policy
from harness.scenarios.native.base import ProvisionerBase
from harness.scenarios.refs import ResolvedRefs, substitute


def padded(policy: dict[str, Any], size: int) -> dict[str, Any]:
    """Grow a policy to `size` bytes with a statement that matches nothing real."""
    if size <= 0:
        return policy
    out = copy.deepcopy(policy)
    statements = out["Statement"] if isinstance(out["Statement"], list) else [out["Statement"]]
    filler: dict[str, Any] = {
        "Sid": "Padding",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "kms:DescribeKey",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:padding": ""}},
    }
    statements.append(filler)
    out["Statement"] = statements
    missing = size - len(json.dumps(out))
    if missing > 0:
        filler["Condition"]["StringEquals"]["kms:EncryptionContext:padding"] = "x" * missing
    return out


class KeyProvisioning(ProvisionerBase):
    def key_policy(self, spec: dict[str, Any], account_id: str, resolved: ResolvedRefs) -> str:
        policy = spec.get("policy") or default_key_policy(account_id)
        policy = padded(substitute(policy, resolved), spec.get("policy_padding_bytes", 0))
        return json.dumps(policy)

    def _keys(self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs) -> None:
        for name, spec in after["keys"].items():
            old = before["keys"].get(name)
            account_id = after["accounts"][spec["account"]]
            kms = self.client("kms", account_id, spec["region"])
            if old is None:
                self._create_key(kms, name, spec, account_id, resolved)
            elif (old.get("policy"), old.get("policy_padding_bytes")) != (
                spec.get("policy"),
                spec.get("policy_padding_bytes"),
            ):
                kms.put_key_policy(
                    KeyId=resolved.key[name]["arn"],
                    PolicyName="default",
                    Policy=self.key_policy(spec, account_id, resolved),
                    BypassPolicyLockoutSafetyCheck=True,
                )
            old_replicas = (old or {}).get("replicas", {})
            for region, replica in spec.get("replicas", {}).items():
                policy = self.key_policy({**spec, **replica}, account_id, resolved)
                if region not in old_replicas:
                    kms.replicate_key(
                        KeyId=resolved.key[name]["arn"],
                        ReplicaRegion=region,
                        Policy=policy,
                        BypassPolicyLockoutSafetyCheck=True,
                    )
                    arn = resolved.key[name]["arn"].replace(f":{spec['region']}:", f":{region}:")
                    resolved.key[f"{name}_{region.replace('-', '_')}"] = {
                        "arn": arn,
                        "id": resolved.key[name]["id"],
                        "account": account_id,
                        "region": region,
                    }
                elif old_replicas[region].get("policy") != replica.get("policy"):
                    self.client("kms", account_id, region).put_key_policy(
                        KeyId=resolved.key[name]["id"],
                        PolicyName="default",
                        Policy=policy,
                        BypassPolicyLockoutSafetyCheck=True,
                    )

    def _create_key(
        self, kms: Any, name: str, spec: dict[str, Any], account_id: str, resolved: ResolvedRefs
    ) -> None:
        params: dict[str, Any] = {
            "Policy": self.key_policy(spec, account_id, resolved),
            "KeySpec": spec["spec"],
            "KeyUsage": spec["usage"],
            "Description": spec.get("description", f"kmslab {name}"),
            "MultiRegion": bool(spec.get("multi_region")),
            "BypassPolicyLockoutSafetyCheck": True,
        }
        store = spec.get("custom_key_store")
        if spec.get("tags"):
            params["Tags"] = [{"TagKey": k, "TagValue": v} for k, v in spec["tags"].items()]
        if spec["origin"] != "AWS_KMS":
            params["Origin"] = spec["origin"]
        if store:
            params["CustomKeyStoreId"] = self._key_store(kms, store)
        meta = kms.create_key(**params)["KeyMetadata"]
        resolved.key[name] = {
            "arn": meta["Arn"],
            "id": meta["KeyId"],
            "account": account_id,
            "region": spec["region"],
        }
        if spec["origin"] == "EXTERNAL":
            self._import_material(kms, meta["Arn"], resolved, name)
        if spec.get("rotation"):
            kms.enable_key_rotation(KeyId=meta["Arn"])

    def _key_store(self, kms: Any, store: dict[str, Any]) -> str:
        name = store.get("name", "kmslab-store")
        for existing in kms.describe_custom_key_stores().get("CustomKeyStores", []):
            if existing["CustomKeyStoreName"] == name:
                return str(existing["CustomKeyStoreId"])
        created = kms.create_custom_key_store(
            CustomKeyStoreName=name,
            CloudHsmClusterId="cluster-kmslabxyzab",
            TrustAnchorCertificate="kmslab-trust-anchor",
            KeyStorePassword="kmslab-password",
        )
        store_id = str(created["CustomKeyStoreId"])
        kms.connect_custom_key_store(CustomKeyStoreId=store_id)
        return store_id

    def _import_material(self, kms: Any, arn: str, resolved: ResolvedRefs, name: str) -> None:
        """Wrap 32 random bytes with the import public key and import them (RSAES_OAEP_SHA_256)."""
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        params = kms.get_parameters_for_import(
            KeyId=arn, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
        )
        public = serialization.load_der_public_key(params["PublicKey"])
        assert isinstance(public, rsa.RSAPublicKey)
        material = resolved.key[name].get("material")
        raw = base64.b64decode(material) if material else os.urandom(32)
        resolved.key[name]["material"] = base64.b64encode(raw).decode()
        wrapped = public.encrypt(
            raw,
            padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
        )
        kms.import_key_material(
            KeyId=arn,
            ImportToken=params["ImportToken"],
            EncryptedKeyMaterial=wrapped,
            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
        )

    def _key_states(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        for name, spec in after["keys"].items():
            old_state = before["keys"].get(name, {}).get("state", "Enabled")
            new_state = spec["state"]
            account_id = after["accounts"][spec["account"]]
            kms = self.client("kms", account_id, spec["region"])
            arn = resolved.key[name]["arn"]
            if old_state != new_state:
                self._leave_state(kms, arn, old_state, spec, resolved, name)
                self._enter_state(kms, arn, new_state, spec)
            old_replicas = before["keys"].get(name, {}).get("replicas", {})
            for region, replica in spec.get("replicas", {}).items():
                was = old_replicas.get(region, {}).get("state", "Enabled")
                now = replica.get("state", "Enabled")
                if was != now:
                    regional = self.client("kms", account_id, region)
                    rarn = arn.replace(f":{spec['region']}:", f":{region}:")
                    if now == "Disabled":
                        regional.disable_key(KeyId=rarn)
                    else:
                        regional.enable_key(KeyId=rarn)

    def _leave_state(
        self,
        kms: Any,
        arn: str,
        state: str,
        spec: dict[str, Any],
        resolved: ResolvedRefs,
        name: str,
    ) -> None:
        if state == "PendingDeletion":
            kms.cancel_key_deletion(KeyId=arn)  # the key comes back Disabled (deleting-keys.html)
            kms.enable_key(KeyId=arn)
        elif state == "Disabled":
            kms.enable_key(KeyId=arn)
        elif state == "PendingImport":
            self._import_material(kms, arn, resolved, name)
        elif state == "Unavailable":
            store_id = kms.describe_key(KeyId=arn)["KeyMetadata"]["CustomKeyStoreId"]
            kms.connect_custom_key_store(CustomKeyStoreId=store_id)

    def _enter_state(self, kms: Any, arn: str, state: str, spec: dict[str, Any]) -> None:
        if state == "Disabled":
            kms.disable_key(KeyId=arn)
        elif state == "PendingDeletion":
            kms.schedule_key_deletion(
                KeyId=arn, PendingWindowInDays=spec.get("deletion_window_days", 7)
            )
        elif state == "PendingImport":
            kms.delete_imported_key_material(KeyId=arn)
        elif state == "Unavailable":
            store_id = kms.describe_key(KeyId=arn)["KeyMetadata"]["CustomKeyStoreId"]
            kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
