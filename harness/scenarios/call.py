"""The failing call: credentials issued to the scenario's principal, then one KMS request as it."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from typing import Any

import botocore.exceptions

from harness.aws.clients import Target
from harness.scenarios.native import NativeProvisioner
from harness.scenarios.refs import ResolvedRefs, substitute

VPCE_HEADER = "X-Lab-Source-Vpce"
VIA_SERVICE_HEADER = "X-Lab-Via-Service"
# The shortest session AssumeRole grants (API_AssumeRole.html: DurationSeconds minimum 900).
EXPIRING_SESSION_SECONDS = 900


@dataclass
class Sent:
    """What the call put on the wire: the investigation request is built from this and
    AWS's answer only (harness.scenarios.wire), never from the scenario's setup."""

    operation: str
    region: str
    params: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    """What the caller saw."""

    ok: bool
    code: str | None = None
    message: str | None = None
    response: dict[str, Any] = field(default_factory=dict)
    sent: Sent | None = None
    request_id: str | None = None  # AWS's RequestId of the answer (finds the CloudTrail record)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "code": self.code,
            "message": self.message,
            "response": self.response,
        }


@dataclass
class ScenarioCaller:
    arn: str
    target: Target


def damaged(blob: bytes, how: str | None) -> bytes:
    """Damage the way people damage ciphertext (catalog row 54)."""
    if how == "truncate":
        return blob[: len(blob) // 2]
    if how == "flip":
        middle = len(blob) // 2
        return blob[:middle] + bytes([blob[middle] ^ 0xFF]) + blob[middle + 1 :]
    if how == "base64":
        return base64.b64encode(blob)  # the text form passed where the binary form belongs
    if how == "not-kms":
        return b"\x00\x00kmslab not a KMS ciphertext blob\x00" * 4
    return blob


def issue_credentials(
    provisioner: NativeProvisioner,
    call: dict[str, Any],
    setup: dict[str, Any],
    resolved: ResolvedRefs,
) -> ScenarioCaller:
    """STS AssumeRole (with the session policy) for roles, CreateAccessKey for users."""
    headers: dict[str, str] = {}
    if call.get("vpc_endpoint"):
        headers[VPCE_HEADER] = resolved.vpce[call["vpc_endpoint"]]["id"]
    if call.get("via_service"):
        headers[VIA_SERVICE_HEADER] = str(substitute(call["via_service"], resolved))
    caller = credentials_of(provisioner, call, setup, resolved, headers)
    resolved.caller = {"arn": caller.arn}
    caller = spoil_credentials(caller, call, resolved.principal[call["principal"]]["account"])
    return caller


def spoil_credentials(caller: ScenarioCaller, call: dict[str, Any], account: str) -> ScenarioCaller:
    """The caller as `call["credentials"]` says: as issued, `wrong-secret` (the issued access
    key id with a secret that does not go with it), `unknown-token` (a session token AWS never
    issued) or `expired` (the session, issued for
    EXPIRING_SESSION_SECONDS, outlived: the lab clock of the principal's account is moved past
    it with the control clock_offset_seconds, so nobody else's credentials age)."""
    spoiled = call.get("credentials")
    if spoiled == "unknown-token":
        # Another session's token, or a token on a long-term key: AWS does not recognise it.
        fake = "IQoJb3JpZ2luX2VjEKMLAB" + "A" * 100
        return ScenarioCaller(caller.arn, replace(caller.target, session_token=fake))
    if spoiled == "wrong-secret":
        secret = caller.target.secret_access_key or ""
        return ScenarioCaller(
            caller.arn, replace(caller.target, secret_access_key=secret[::-1] + "x")
        )
    if spoiled == "expired":
        from harness.lab.client import LabClient

        lab = LabClient(str(caller.target.endpoint_url))
        controls = lab.get_controls()
        mine = (controls.get("accounts") or {}).get(account) or {}
        offset = float(mine.get("clock_offset_seconds", controls.get("clock_offset_seconds") or 0))
        lab.set_controls(
            {"accounts": {account: {"clock_offset_seconds": offset + EXPIRING_SESSION_SECONDS + 1}}}
        )
    return caller


def credentials_of(
    provisioner: NativeProvisioner,
    call: dict[str, Any],
    setup: dict[str, Any],
    resolved: ResolvedRefs,
    headers: dict[str, str] | None = None,
) -> ScenarioCaller:
    """Lab-issued credentials of `call["principal"]` (no request-context headers by default)."""
    headers = dict(headers or {})
    name = call["principal"]
    info = resolved.principal[name]
    account_id = info["account"]
    base = provisioner.targets(account_id, call["region"])
    if info["type"] == "role":
        sts = provisioner.client("sts", account_id, setup["region"])
        params: dict[str, Any] = {"RoleArn": info["arn"], "RoleSessionName": call["session_name"]}
        if call.get("credentials") == "expired":
            params["DurationSeconds"] = EXPIRING_SESSION_SECONDS
        if call.get("session_policy"):
            params["Policy"] = json.dumps(substitute(call["session_policy"], resolved))
        creds = sts.assume_role(**params)["Credentials"]
        arn = f"arn:aws:sts::{account_id}:assumed-role/{info['name']}/{call['session_name']}"
        target = Target(
            endpoint_url=base.endpoint_url,
            region=call["region"],
            access_key_id=creds["AccessKeyId"],
            secret_access_key=creds["SecretAccessKey"],
            session_token=creds["SessionToken"],
            extra_headers=headers,
        )
    else:
        if "access_key" not in info:
            iam = provisioner.client("iam", account_id, setup["region"])
            key = iam.create_access_key(UserName=info["name"])["AccessKey"]
            info["access_key"] = key["AccessKeyId"]
            info["secret_key"] = key["SecretAccessKey"]
        arn = info["arn"]
        target = Target(
            endpoint_url=base.endpoint_url,
            region=call["region"],
            access_key_id=info["access_key"],
            secret_access_key=info["secret_key"],
            extra_headers=headers,
        )
    return ScenarioCaller(arn=arn, target=target)


def request_params(call: dict[str, Any], resolved: ResolvedRefs) -> dict[str, Any]:
    """The boto3 parameters of the call, references resolved."""
    params: dict[str, Any] = {}
    operation = call["operation"]
    if call.get("key"):
        key = resolved.key_ref(str(substitute(call["key"], resolved)))
        params["SourceKeyId" if operation == "ReEncrypt" else "KeyId"] = key
    if call.get("ciphertext"):
        blob = resolved.ciphertext[call["ciphertext"]["data"]]
        params["CiphertextBlob"] = damaged(blob, call["ciphertext"].get("damage"))
    context = call.get("encryption_context") or {}
    if context:
        params["SourceEncryptionContext" if operation == "ReEncrypt" else "EncryptionContext"] = (
            context
        )
    tokens = [
        resolved.grant[t]["token"] if t in resolved.grant else t for t in call["grant_tokens"]
    ]
    if tokens:
        params["GrantTokens"] = tokens
    if operation == "Encrypt":
        params["Plaintext"] = b"kmslab"
    elif operation in ("GenerateDataKey", "GenerateDataKeyWithoutPlaintext"):
        params["KeySpec"] = "AES_256"
    elif operation == "ReEncrypt":
        destination = str(substitute(call.get("destination_key") or call["key"], resolved))
        params["DestinationKeyId"] = resolved.key_ref(destination)
    elif operation == "CreateGrant":
        params["GranteePrincipal"] = resolved.caller["arn"]
        params["Operations"] = ["Decrypt"]
    if operation in ("DescribeKey", "CreateGrant"):
        params.pop("EncryptionContext", None)
    return params


def summarize(operation: str, response: dict[str, Any]) -> dict[str, Any]:
    """What the caller got back, without plaintext or ciphertext."""
    keep = ("KeyId", "GrantId", "EncryptionAlgorithm", "SourceKeyId")
    out = {k: response[k] for k in keep if k in response}
    if operation == "DescribeKey":
        out["KeyState"] = response["KeyMetadata"]["KeyState"]
        out["KeyId"] = response["KeyMetadata"]["Arn"]
    return out


def make_call(caller: ScenarioCaller, call: dict[str, Any], resolved: ResolvedRefs) -> Outcome:
    """Make the call (`attempts` times for rate scenarios); the last outcome counts."""
    kms = caller.target.client("kms", call["region"], max_attempts=2)
    method = getattr(kms, _snake(call["operation"]))
    params = request_params(call, resolved)
    sent = Sent(call["operation"], call["region"], params, dict(caller.target.extra_headers or {}))
    outcome = Outcome(ok=False, sent=sent)
    for _ in range(call.get("attempts", 1)):
        try:
            response = method(**params)
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            outcome = Outcome(
                ok=False,
                code=error.get("Code"),
                message=error.get("Message", ""),
                sent=sent,
                request_id=exc.response.get("ResponseMetadata", {}).get("RequestId"),
            )
        else:
            outcome = Outcome(ok=True, response=summarize(call["operation"], response), sent=sent)
    return outcome


def _snake(operation: str) -> str:
    out = ""
    for char in operation:
        out += ("_" + char.lower()) if char.isupper() and out else char.lower()
    return out
