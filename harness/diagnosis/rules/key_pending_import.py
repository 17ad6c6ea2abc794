"""Imported key material missing or expired: state PendingImport (importing-keys.html)."""

from __future__ import annotations

from harness.diagnosis.appliers import key_applier
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import applier_notes, key_id_arg, region_flag, sh, tf_name, tf_variable
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._state import state_evidence

META = RuleMeta(
    code="KEY_PENDING_IMPORT",
    runbook_step=2,
    severity="critical",
    title="Key material missing or expired",
    reads=("kms:DescribeKey", "cloudtrail:LookupEvents"),
    catalog=("D44", "D45"),
    meaning="imported key material missing or expired",
    phase="key-state",
    node="state",
    fixes=("aws kms get-parameters-for-import", "aws kms import-key-material"),
    explains=Explains(states=frozenset({"PendingImport"})),
)


def check(ctx: Context) -> Finding | None:
    evidence = state_evidence(ctx, ("PendingImport",))
    if not evidence:
        return None
    md = ctx.facts.key_metadata or {}
    if md.get("Origin"):
        detail = f"Origin {md.get('Origin')}, ExpirationModel {md.get('ExpirationModel', '-')}"
        if md.get("ValidTo"):
            detail += f", ValidTo {md['ValidTo']} (the material expired)"
        else:
            detail += ", no ValidTo (material never imported or deleted)"
        evidence.append(Evidence("kms:DescribeKey", detail))
    for ev in ctx.facts.kms_events(("DeleteExpiredKeyMaterial", "DeleteImportedKeyMaterial")):
        evidence.append(
            Evidence("cloudtrail:LookupEvents", f"{ev.get('eventName')} at {ev.get('eventTime')}")
        )
    rf = region_flag(ctx.facts)
    key = sh(key_id_arg(ctx.facts))
    applier = key_applier(ctx.facts, "kms:ImportKeyMaterial")
    return ctx.finding(
        META,
        f"Key {ctx.key} has no usable key material (PendingImport); re-import the same material so {ctx.who} "
        f"can call {ctx.action}.",
        evidence,
        Fix(
            summary=f"Re-import the same key material into {ctx.key} (other material cannot decrypt old data).",
            applied_by=applier.arn,
            applied_by_reason=applier.how,
            notes=applier_notes(applier),
            # AWS's procedure (importing-keys-get-public-key-and-token.html,
            # importing-keys-encrypt-key-material.html): the ORIGINAL material, in
            # key-material.bin, wrapped with RSAES_OAEP_SHA_256 by OpenSSL.
            cli=(
                f"aws kms get-parameters-for-import --key-id {key} --wrapping-algorithm RSAES_OAEP_SHA_256 "
                f"--wrapping-key-spec RSA_4096 --query '[ImportToken,PublicKey]' --output text{rf} > import-parameters.txt\n"
                "read -r IMPORT_TOKEN PUBLIC_KEY < import-parameters.txt\n"
                'echo "$IMPORT_TOKEN" | base64 --decode > ImportToken.bin\n'
                'echo "$PUBLIC_KEY" | base64 --decode > PublicKey.bin\n'
                "openssl pkeyutl -encrypt -in key-material.bin -out EncryptedKeyMaterial.bin -inkey PublicKey.bin "
                "-keyform DER -pubin -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256\n"
                f"aws kms import-key-material --key-id {key} --encrypted-key-material fileb://EncryptedKeyMaterial.bin "
                f"--import-token fileb://ImportToken.bin --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE{rf}"
            ),
            terraform=(
                tf_variable(
                    "original_key_material_base64",
                    "the key material that encrypted the data, base64",
                    sensitive=True,
                )
                + f'resource "aws_kms_external_key" "{tf_name(ctx.facts.key_id)}" {{\n'
                "  # the same material that encrypted the data, base64 (keep it out of plain state)\n"
                "  key_material_base64 = var.original_key_material_base64\n"
                "  # omit valid_to so the material does not expire again\n"
                "}"
            ),
        ),
    )
