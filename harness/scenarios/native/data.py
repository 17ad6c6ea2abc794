"""The scenario's data: ciphertext encrypted under its keys."""

from __future__ import annotations

from typing import Any

from harness.scenarios.native.base import ProvisionerBase
from harness.scenarios.refs import ResolvedRefs

PLAINTEXT = b"kmslab scenario data"


class DataProvisioning(ProvisionerBase):
    def _data(self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs) -> None:
        for name, spec in after["data"].items():
            if name in before["data"]:
                continue
            key = resolved.key[spec["key"]]
            kms = self.client("kms", key["account"], key["region"])
            params: dict[str, Any] = {
                "KeyId": key["arn"],
                "Plaintext": spec.get("plaintext", "").encode() or PLAINTEXT,
            }
            if spec.get("encryption_context"):
                params["EncryptionContext"] = spec["encryption_context"]
            if spec.get("algorithm"):
                params["EncryptionAlgorithm"] = spec["algorithm"]
            resolved.ciphertext[name] = kms.encrypt(**params)["CiphertextBlob"]
