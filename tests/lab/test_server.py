"""The lab process itself: loopback only, admin routes, reset, clear upstream errors, and
AWS-shaped errors for bad requests (never a crash)."""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest
from botocore.exceptions import ClientError

from harness.errors import EndpointError, UsageError
from harness.lab import LabClient, LabServer
from lab.labkit import LabKit, error


def test_binds_loopback_only(moto_lab: LabKit) -> None:
    host, _port = moto_lab.endpoint.removeprefix("http://").split(":")
    assert host == "127.0.0.1"
    sock = moto_lab.server._server.socket  # type: ignore[union-attr]
    assert sock.getsockname()[0] == "127.0.0.1"
    assert moto_lab.admin.health()["status"] == "ok"


def test_unreachable_upstream_is_a_clear_endpoint_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(EndpointError, match=rf"upstream http://127.0.0.1:{port} is unreachable"):
        LabServer(upstream=f"http://127.0.0.1:{port}").start()


def test_unknown_upstream_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown upstream"):
        LabServer(upstream="floci")


def test_lab_client_on_nothing_is_an_endpoint_error() -> None:
    with pytest.raises(EndpointError, match="unreachable"):
        LabClient("http://127.0.0.1:9", timeout=1).health()


def test_reset_clears_keys_and_issued_credentials(lab: LabKit) -> None:
    lab.key()
    creds = lab.assume(lab.role("r"))
    lab.admin.reset()
    assert lab.client("kms").list_keys()["Keys"] == []
    with pytest.raises(ClientError) as exc:
        lab.client("sts", creds=creds).get_caller_identity()
    assert error(exc)[0] == "InvalidClientTokenId"
    with pytest.raises(ClientError):
        lab.client("iam").get_role(RoleName="r")


def _raw(endpoint: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(endpoint + "/", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


AUTH = "AWS4-HMAC-SHA256 Credential=111111111111/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00"


def test_bad_requests_get_aws_shaped_errors(moto_lab: LabKit) -> None:
    base = {"Content-Type": "application/x-amz-json-1.1", "Authorization": AUTH}
    status, body = _raw(
        moto_lab.endpoint, b"{not json", {**base, "X-Amz-Target": "TrentService.Decrypt"}
    )
    assert status == 400 and body["__type"] == "SerializationException"
    status, body = _raw(
        moto_lab.endpoint, b"{}", {**base, "X-Amz-Target": "TrentService.Frobnicate"}
    )
    assert status == 400 and body["__type"] == "UnknownOperationException"
    status, body = _raw(
        moto_lab.endpoint,
        b'{"CiphertextBlob": "!!!"}',
        {**base, "X-Amz-Target": "TrentService.Decrypt"},
    )
    assert status == 400 and body["__type"] == "SerializationException"
    status, body = _raw(
        moto_lab.endpoint,
        b'{"CiphertextBlob": 5}',
        {**base, "X-Amz-Target": "TrentService.Decrypt"},
    )
    assert status == 400
    status, body = _raw(
        moto_lab.endpoint,
        b"{}",
        {"X-Amz-Target": "TrentService.ListKeys", "Content-Type": "application/x-amz-json-1.1"},
    )
    assert status == 403 and body["__type"] == "MissingAuthenticationTokenException"
    # the lab still serves afterwards
    assert moto_lab.client("kms").list_keys()["Keys"] == []


def test_admin_controls_round_trip_and_validation(moto_lab: LabKit) -> None:
    admin = moto_lab.admin
    merged = admin.set_controls({"grant_propagation_seconds": 30, "throttle": {"222222222222": 5}})
    assert merged["grant_propagation_seconds"] == 30 and merged["throttle"] == {"222222222222": 5}
    merged = admin.set_controls({"throttle": {"333333333333": 0}})
    assert merged["throttle"] == {"222222222222": 5, "333333333333": 0}
    assert admin.get_controls() == merged
    with pytest.raises(UsageError, match="unknown field"):
        admin.set_controls({"grant_delay": 3})
    with pytest.raises(UsageError, match="key_states"):
        admin.set_controls({"key_states": {"arn:x": "Melting"}})


def test_upstream_lost_at_runtime_gives_retryable_aws_errors() -> None:
    from moto.server import ThreadedMotoServer

    from lab.labkit import LabKit as Handle

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    server = LabServer(upstream=f"http://{host}:{port}").start()
    try:
        lab = Handle(server, "url")
        key = lab.key()
        creds = lab.assume(lab.role("app"))
        moto.stop()
        with pytest.raises(ClientError) as exc:
            lab.client("kms", creds=creds).encrypt(KeyId=key["Arn"], Plaintext=b"x")
        code, message = error(exc)
        assert code == "DependencyTimeoutException" and f"127.0.0.1:{port}" in message
        with pytest.raises(ClientError) as exc:
            lab.client("iam").get_role(RoleName="app")
        assert error(exc)[0] == "ServiceUnavailable"
        assert lab.client("kms").encrypt(KeyId=key["Arn"], Plaintext=b"x")["KeyId"] == key["Arn"]
    finally:
        server.stop()
