"""The investigation request, built only from what the failing call sent and what AWS answered.

A person who investigates a failure knows the request their application made (key reference
as given, Region, encryption context, grant tokens, the network path it took) and the error
AWS returned; they do not know the lab's setup. Building the request from anything else would
let the diagnosis lean on knowledge no investigator has (issue 13: "wire-only requests").

The key: the `KeyId` (`SourceKeyId` for ReEncrypt) exactly as sent. A symmetric Decrypt may
send none, because KMS reads the key from the ciphertext's metadata (API_Decrypt.html, KeyId:
"If you used a symmetric encryption KMS key, AWS KMS can get the KMS key from metadata that
it adds to the symmetric ciphertext blob"); then the key is the one AWS named in its answer:
the `KeyId` of a successful response ("The Amazon Resource Name (key ARN) of the KMS key that
was used to decrypt the ciphertext") or the key ARN in the error message (IAM's AccessDenied
shape names the resource; the key-state messages of key-state.html start with the key ARN).
"""

from __future__ import annotations

import json
import re
from typing import Any

import botocore.exceptions

from harness.aws import arns
from harness.aws.clients import Target
from harness.errors import UsageError
from harness.evidence.ciphertext import ciphertext_facts
from harness.evidence.request import InvestigationRequest, parse_key
from harness.scenarios.call import VIA_SERVICE_HEADER, VPCE_HEADER, Outcome

KEY_ARN = re.compile(arns.KMS_KEY_ARN_PATTERN)
# The request carries only these ciphertext facts (harness.evidence.request).
CIPHERTEXT_FACTS = ("length", "kms_blob")


def answered_key(outcome: Outcome) -> str | None:
    """The key ARN AWS named in its answer, if it named one."""
    if outcome.ok:
        value = outcome.response.get("KeyId") or outcome.response.get("SourceKeyId")
        return str(value) if value and KEY_ARN.fullmatch(str(value)) else None
    match = KEY_ARN.search(outcome.message or "")
    return match.group(0) if match else None


def sent_key(params: dict[str, Any], operation: str) -> str | None:
    value = params.get("SourceKeyId" if operation == "ReEncrypt" else "KeyId")
    return str(value) if value else None


def needs_trail(outcome: Outcome) -> bool:
    """Whether neither the call nor AWS's answer named the key."""
    sent = outcome.sent
    return (
        sent is not None and not sent_key(sent.params, sent.operation) and not answered_key(outcome)
    )


def recorded_key(outcome: Outcome, reader: Target) -> str | None:
    """The key ARN CloudTrail recorded for this very call, found by AWS's RequestId.

    When a Decrypt sends no KeyId and is denied, AWS's message names only "the resource
    associated with this ciphertext"; the caller's CloudTrail event of the call (its
    `requestID` is the RequestId AWS answered) lists the key in `resources` (ct-decrypt.html
    shows the key ARN there; that a denied call records it too is the lab's reading [V]).
    """
    sent = outcome.sent
    if sent is None or not outcome.request_id:
        return None
    cloudtrail = reader.client("cloudtrail", sent.region)
    try:
        pages = cloudtrail.get_paginator("lookup_events").paginate(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": sent.operation}],
            PaginationConfig={"MaxItems": 200},
        )
        for page in pages:
            for event in page.get("Events", []):
                record = json.loads(event.get("CloudTrailEvent") or "{}")
                if record.get("requestID") != outcome.request_id:
                    continue
                for resource in record.get("resources") or []:
                    if KEY_ARN.fullmatch(str(resource.get("ARN", ""))):
                        return str(resource["ARN"])
    except botocore.exceptions.ClientError:
        return None
    return None


def investigation_request(
    principal: str,
    outcome: Outcome,
    *,
    sees_error: bool = True,
    recorded: str | None = None,
) -> InvestigationRequest:
    """The request to investigate: `principal` is the caller's ARN as STS or IAM issued it;
    `recorded` is the key CloudTrail recorded for the call (`recorded_key`), when needed."""
    sent = outcome.sent
    if sent is None:
        raise UsageError("the call's request was not recorded: nothing to investigate")
    params = sent.params
    key = sent_key(params, sent.operation) or answered_key(outcome) or recorded
    if key is None:
        raise UsageError(
            f"kms:{sent.operation} named no key and AWS's answer names none "
            f"({outcome.code or 'success'}): there is no key to investigate"
        )
    ref = parse_key(key)
    # Whose key it is, as far as the wire says: the account of an ARN sent or answered.
    answered = answered_key(outcome) or recorded
    key_account = ref.account or (parse_key(answered).account if answered else None)
    context: dict[str, str] = {}
    if sent.headers.get(VIA_SERVICE_HEADER):
        context["kms:ViaService"] = sent.headers[VIA_SERVICE_HEADER]
    if sent.headers.get(VPCE_HEADER):
        context["aws:SourceVpce"] = sent.headers[VPCE_HEADER]
    encryption_context = params.get("SourceEncryptionContext") or params.get("EncryptionContext")
    ciphertext = None
    if params.get("CiphertextBlob") is not None:
        facts = ciphertext_facts(params["CiphertextBlob"])
        ciphertext = {k: facts[k] for k in CIPHERTEXT_FACTS}
    observed = None
    if not outcome.ok and sees_error:
        observed = {"code": outcome.code or "", "message": outcome.message or ""}
    return InvestigationRequest(
        principal=principal,
        action=f"kms:{sent.operation}",
        key=key,
        region=sent.region,
        encryption_context=dict(encryption_context or {}),
        context=context,
        observed_error=observed,
        grant_tokens=len(params.get("GrantTokens") or []),
        key_account=key_account,
        ciphertext=ciphertext,
    )
