"""CloudTrail events of the lab's KMS calls: in the caller's account, and in the key owner's
account too when a call on another account's key succeeds (AWS logs it in both)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.aws import arns
from harness.lab.errors import AwsError
from harness.lab.kms.call import KmsCall
from harness.lab.protocol import AwsRequest

if TYPE_CHECKING:
    from harness.lab.gateway import LabGateway


def record_kms(
    lab: LabGateway,
    req: AwsRequest,
    call: KmsCall,
    result: dict[str, Any],
    error: AwsError | None,
) -> None:
    if call.additional.get("denied_by") == ["vpc-endpoint"]:
        return  # vpce-logging.html: endpoint-policy denials are not management events
    response = response_elements(call.operation, result) if error is None else None
    additional = {}
    key_account = call.key_account
    if call.resources:
        key = _key_by_arn(lab, call.resources[-1])
        if key is not None and key.custom_key_store_id:
            additional["customKeyStoreId"] = key.custom_key_store_id
    common: dict[str, Any] = {
        "response": response,
        "error": error,
        "resources": call.resources,
        "invoked_by": call.via_service and call.via_service.split(".")[0] + ".amazonaws.com",
        "vpce": call.source_vpce,
        "user_agent": req.user_agent,
        "request_id": req.request_id,
        "additional": additional or None,
    }
    params = dict(req.params)
    lab.trail.record(
        call.principal.account,
        req.region,
        call.principal,
        "kms.amazonaws.com",
        call.operation,
        params,
        **common,
    )  # type: ignore[arg-type]
    if key_account and key_account != call.principal.account and error is None:
        identity = {
            "type": "AWSAccount",
            "principalId": call.principal.user_id,
            "accountId": call.principal.account,
        }
        lab.trail.record(
            key_account,
            req.region,
            call.principal,
            "kms.amazonaws.com",
            call.operation,
            params,
            identity_override=identity,
            **common,
        )  # type: ignore[arg-type]


def _key_by_arn(lab: LabGateway, arn: str) -> Any:
    parsed = arns.parse(arn)
    if parsed is None or parsed.resource_type != "key":
        return None
    return lab.kms_store.get(parsed.account, parsed.region, parsed.resource_id)


def response_elements(operation: str, result: dict[str, Any]) -> dict[str, Any] | None:
    if operation in (
        "Decrypt",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "ReEncrypt",
    ):
        out = {
            k[0].lower() + k[1:]: v
            for k, v in result.items()
            if k
            in (
                "KeyId",
                "EncryptionAlgorithm",
                "SourceKeyId",
                "DestinationEncryptionAlgorithm",
                "SourceEncryptionAlgorithm",
            )
        }
        return out or None
    if operation == "CreateKey":
        meta = result.get("KeyMetadata", {})
        return {"keyMetadata": {k[0].lower() + k[1:]: v for k, v in meta.items()}}
    if operation == "CreateGrant":
        return {"grantId": result.get("GrantId")}
    if operation == "ScheduleKeyDeletion":
        return {
            "keyId": result.get("KeyId"),
            "keyState": result.get("KeyState"),
            "pendingWindowInDays": result.get("PendingWindowInDays"),
        }
    return None
