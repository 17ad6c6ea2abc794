"""Authentication as AWS does it, tried by a would-be attacker who holds only credentials the
lab issued (or read from CloudTrail) and the lab's port.

Expected codes and texts come from AWS pages, not from the lab:
- JSON protocols (KMS): InvalidSignatureException / UnrecognizedClientException /
  ExpiredTokenException, HTTP 400 (DynamoDB "Error handling", same JSON front end:
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html).
- Query protocols (IAM, STS): InvalidClientTokenId 403
  (https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html), SignatureDoesNotMatch,
  ExpiredToken.
- EC2: AuthFailure ("AWS was not able to validate the provided access credentials") and
  RequestExpired (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
- Messages: "The security token included in the request is invalid." / "... is expired",
  "The request signature we calculated does not match the signature you provided." and
  "Signature expired: ..." (Alexa Web Information Service, SigV4 authentication errors:
  https://docs.aws.amazon.com/AlexaWebInfoService/latest/QUERY_QueryAuthenticationErrors.html).
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from typing import Any
from unittest import mock

import botocore.auth
import botocore.exceptions
import pytest

from lab.labkit import APP, LabKit, allow

ISSUED = "Decrypt with the credentials the lab issued must work"


def _error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call()
    err = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


@pytest.fixture
def victim(moto_lab: LabKit) -> dict[str, Any]:
    """A role with kms:* and a key; the session's credentials are the attacker's starting point."""
    arn = moto_lab.role("app", policy=allow())
    key = moto_lab.key()["Arn"]
    blob = moto_lab.client("kms").encrypt(KeyId=key, Plaintext=b"secret")["CiphertextBlob"]
    creds = moto_lab.assume(arn, "victim-session", DurationSeconds=900)
    kms = moto_lab.client("kms", creds=creds)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret", ISSUED
    return {"arn": arn, "key": key, "blob": blob, "creds": creds}


def test_wrong_secret_is_refused_in_every_protocol(
    moto_lab: LabKit, victim: dict[str, Any]
) -> None:
    forged = {**victim["creds"], "SecretAccessKey": "guessed" + "x" * 33}
    code, status, message = _error(
        lambda: moto_lab.client("kms", creds=forged).decrypt(CiphertextBlob=victim["blob"])
    )
    assert (code, status) == ("InvalidSignatureException", 400)
    assert message.startswith("The request signature we calculated does not match")
    code, status, _ = _error(lambda: moto_lab.client("sts", creds=forged).get_caller_identity())
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    code, status, message = _error(lambda: moto_lab.client("iam", creds=forged).list_roles())
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    code, status, message = _error(
        lambda: moto_lab.client("ec2", creds=forged).describe_vpc_endpoints()
    )
    assert (code, status) == ("AuthFailure", 401)
    assert message == "AWS was not able to validate the provided access credentials"


def test_missing_or_foreign_session_token_is_refused(
    moto_lab: LabKit, victim: dict[str, Any]
) -> None:
    other = moto_lab.assume(victim["arn"], "other-session")
    cases = [
        {k: v for k, v in victim["creds"].items() if k != "SessionToken"},
        {**victim["creds"], "SessionToken": other["SessionToken"]},
        {**victim["creds"], "SessionToken": victim["creds"]["SessionToken"][:-4] + "AAAA"},
    ]
    for creds in cases:
        code, status, message = _error(
            lambda c=creds: moto_lab.client("kms", creds=c).decrypt(CiphertextBlob=victim["blob"])
        )
        assert (code, status) == ("UnrecognizedClientException", 400)
        assert message == "The security token included in the request is invalid."
        code, status, _ = _error(
            lambda c=creds: moto_lab.client("sts", creds=c).get_caller_identity()
        )
        assert (code, status) == ("InvalidClientTokenId", 403)


def test_key_id_read_from_cloudtrail_is_useless_without_its_secret(
    moto_lab: LabKit, victim: dict[str, Any]
) -> None:
    events = moto_lab.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "Decrypt"}]
    )["Events"]
    stolen = {json.loads(e["CloudTrailEvent"])["userIdentity"].get("accessKeyId") for e in events}
    assert victim["creds"]["AccessKeyId"] in stolen, "CloudTrail records the caller's key id"
    attacker = moto_lab.assume(moto_lab.role("attacker", policy=allow()), "attacker")
    # The attacker's own secret and token, with the victim's key id.
    forged = {**attacker, "AccessKeyId": victim["creds"]["AccessKeyId"]}
    code, _, _ = _error(
        lambda: moto_lab.client("kms", creds=forged).decrypt(CiphertextBlob=victim["blob"])
    )
    assert code == "UnrecognizedClientException"  # the token belongs to another key id
    forged = {"AccessKeyId": victim["creds"]["AccessKeyId"], "SecretAccessKey": "x" * 40}
    code, _, _ = _error(
        lambda: moto_lab.client("kms", creds=forged).decrypt(CiphertextBlob=victim["blob"])
    )
    assert code == "UnrecognizedClientException"


def test_iam_user_access_key_needs_its_secret(moto_lab: LabKit) -> None:
    iam = moto_lab.client("iam")
    iam.create_user(UserName="dev")
    iam.put_user_policy(UserName="dev", PolicyName="p", PolicyDocument=allow())
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    good = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
    assert moto_lab.client("sts", creds=good).get_caller_identity()["Arn"].endswith(":user/dev")
    bad = {**good, "SecretAccessKey": key["SecretAccessKey"][::-1]}
    code, _, _ = _error(lambda: moto_lab.client("kms", creds=bad).list_keys())
    assert code == "InvalidSignatureException"
    # A long-term key never comes with a session token.
    with_token = {**good, "SessionToken": "FwoGZXIvYXdzE" + "A" * 40}
    code, _, _ = _error(lambda: moto_lab.client("kms", creds=with_token).list_keys())
    assert code == "UnrecognizedClientException"


def test_expiry_follows_duration_seconds_on_the_lab_clock(
    moto_lab: LabKit, victim: dict[str, Any]
) -> None:
    kms = moto_lab.client("kms", creds=victim["creds"])
    moto_lab.admin.set_controls({"clock_offset_seconds": 899})
    assert kms.decrypt(CiphertextBlob=victim["blob"])["Plaintext"] == b"secret"
    moto_lab.admin.set_controls({"clock_offset_seconds": 901})  # DurationSeconds=900
    code, status, message = _error(lambda: kms.decrypt(CiphertextBlob=victim["blob"]))
    assert (code, status) == ("ExpiredTokenException", 400)
    assert message.startswith("The security token included in the request is expired")
    code, _, _ = _error(lambda: moto_lab.client("sts", creds=victim["creds"]).get_caller_identity())
    assert code == "ExpiredToken"
    # A session asked for 2 hours outlives the 15-minute one.
    longer = moto_lab.assume(victim["arn"], "long", DurationSeconds=7200)
    assert moto_lab.client("kms", creds=longer).decrypt(CiphertextBlob=victim["blob"])


def test_get_session_token_duration_is_honoured(moto_lab: LabKit) -> None:
    iam = moto_lab.client("iam")
    iam.create_user(UserName="dev")
    iam.put_user_policy(UserName="dev", PolicyName="p", PolicyDocument=allow())
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    user = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
    session = moto_lab.client("sts", creds=user).get_session_token(DurationSeconds=1000)
    creds = session["Credentials"]
    moto_lab.admin.set_controls({"clock_offset_seconds": 1001})
    code, _, _ = _error(lambda: moto_lab.client("kms", creds=creds).list_keys())
    assert code == "ExpiredTokenException"
    # The long-term key itself does not expire.
    assert "Keys" in moto_lab.client("kms", creds=user).list_keys()


def _signed_at(when: dt.datetime) -> Any:
    return mock.patch.object(
        botocore.auth, "get_current_datetime", lambda: when.replace(tzinfo=None)
    )


def test_clock_skew_over_five_minutes_is_refused(moto_lab: LabKit, victim: dict[str, Any]) -> None:
    kms = moto_lab.client("kms", creds=victim["creds"])
    now = dt.datetime.now(dt.UTC)
    with _signed_at(now - dt.timedelta(minutes=3)):
        assert kms.decrypt(CiphertextBlob=victim["blob"])["Plaintext"] == b"secret"
    with _signed_at(now - dt.timedelta(minutes=20)):
        code, _, message = _error(lambda: kms.decrypt(CiphertextBlob=victim["blob"]))
    assert code == "InvalidSignatureException" and message.startswith("Signature expired: ")
    with _signed_at(now + dt.timedelta(minutes=20)):
        code, _, message = _error(lambda: kms.decrypt(CiphertextBlob=victim["blob"]))
    assert code == "InvalidSignatureException" and message.startswith("Signature not yet current")
    ec2 = moto_lab.client("ec2", creds=victim["creds"])
    with _signed_at(now - dt.timedelta(minutes=20)):
        code, _, _ = _error(lambda: ec2.describe_vpc_endpoints())
    assert code == "RequestExpired"


def test_credential_scope_must_name_a_real_region_and_the_right_service(
    moto_lab: LabKit, victim: dict[str, Any]
) -> None:
    code, _, message = _error(
        lambda: moto_lab.client("kms", region="us-fake-9", creds=victim["creds"]).list_keys()
    )
    assert (code, message) == (
        "InvalidSignatureException",
        "Credential should be scoped to a valid region.",
    )
    kms = moto_lab.client("kms", creds=victim["creds"])

    def sign_as_iam(request: Any, **_: Any) -> None:
        request.context["signing"] = {**request.context.get("signing", {}), "signing_name": "iam"}

    kms.meta.events.register("before-sign.kms.*", sign_as_iam)
    code, _, message = _error(lambda: kms.list_keys())
    assert code == "InvalidSignatureException"
    assert message == "Credential should be scoped to correct service: 'kms'."


def test_a_service_the_lab_does_not_serve_is_refused_not_forwarded(
    moto_lab: LabKit, victim: dict[str, Any]
) -> None:
    for creds in (victim["creds"], None):
        sqs = moto_lab.client("sqs", creds=creds)
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            sqs.create_queue(QueueName="planted")
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)
        assert "Credential should be scoped" in str(exc.value)
    # Nothing reached the upstream: the operator sees no queue either way.
    # (S3 holds only trail buckets and is open to operators alone.)
    with pytest.raises(botocore.exceptions.ClientError):
        moto_lab.client("s3", creds=victim["creds"]).list_buckets()


def _admin(lab: LabKit, method: str, route: str, body: bytes | None = None, **headers: str) -> int:
    request = urllib.request.Request(
        f"{lab.endpoint}/_kmslab/{route}", data=body, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_admin_routes_refuse_anyone_but_an_operator(
    moto_lab: LabKit, victim: dict[str, Any]
) -> None:
    before = moto_lab.admin.get_controls()
    assert _admin(moto_lab, "POST", "controls", b'{"authorize_iam": false}') == 403
    assert _admin(moto_lab, "POST", "reset", b"{}") == 403
    assert _admin(moto_lab, "GET", "controls") == 403
    # Signed with the issued credentials (correctly!): still not an operator.
    import botocore.awsrequest
    import botocore.credentials

    url = f"{moto_lab.endpoint}/_kmslab/controls"
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=url, data=b'{"authorize_iam": false}'
    )
    creds = victim["creds"]
    botocore.auth.SigV4Auth(
        botocore.credentials.Credentials(
            creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        ),
        "kmslab",
        "us-east-1",
    ).add_auth(request)
    status = _admin(
        moto_lab, "POST", "controls", b'{"authorize_iam": false}', **dict(request.headers)
    )
    assert status == 403
    assert moto_lab.admin.get_controls() == before, "nothing changed"
    health = moto_lab.admin.health()
    assert _admin(moto_lab, "GET", "health") == 200
    assert "127.0.0.1:" not in json.dumps({k: v for k, v in health.items() if k != "endpoint"}), (
        "health names no upstream address"
    )


@pytest.fixture
def room(moto_lab: LabKit) -> Any:
    """The shared lab switched to room mode for one test (a secret only the facilitator has)."""
    authn = moto_lab.server.lab.authn  # type: ignore[union-attr]
    authn.room_secret = "facilitator-only-" + "s" * 20
    try:
        yield authn.room_secret
    finally:
        authn.room_secret = None


def test_room_operator_needs_the_room_secret(moto_lab: LabKit, room: str) -> None:
    guessed = moto_lab.client("kms", creds={"AccessKeyId": APP, "SecretAccessKey": "anything"})
    code, _, _ = _error(lambda: guessed.create_key())
    assert code == "InvalidSignatureException"
    code, _, _ = _error(
        lambda: moto_lab.client(
            "iam", creds={"AccessKeyId": APP, "SecretAccessKey": "anything"}
        ).create_user(UserName="intruder")
    )
    assert code == "SignatureDoesNotMatch"
    facilitator = moto_lab.client("kms", creds={"AccessKeyId": APP, "SecretAccessKey": room})
    assert facilitator.create_key()["KeyMetadata"]["KeyState"] == "Enabled"
    # S3 signs differently (path not re-encoded, payload hash header); trail buckets need it.
    s3 = moto_lab.client("s3", creds={"AccessKeyId": APP, "SecretAccessKey": room})
    s3.create_bucket(Bucket="room-trail-bucket")
    assert "room-trail-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    guessed_s3 = moto_lab.client("s3", creds={"AccessKeyId": APP, "SecretAccessKey": "anything"})
    with pytest.raises(botocore.exceptions.ClientError):
        guessed_s3.list_buckets()
    # Admin: the token of the room works, a guessed one does not, a signature needs the secret.
    assert _admin(moto_lab, "GET", "controls", **{"X-Kmslab-Token": "guess"}) == 403
    assert _admin(moto_lab, "GET", "controls", **{"X-Kmslab-Token": room}) == 200
    from harness.lab import LabClient

    assert LabClient(moto_lab.endpoint, token=room).get_controls()["authorize_iam"] is True


@pytest.mark.slow
def test_lab_up_room_prints_the_secret_once_and_kmslab_keeps_working(tmp_path: Any) -> None:
    from lab.test_cli import free_port, kmslab

    port = free_port()
    up = kmslab(tmp_path, "lab", "up", "--port", str(port), "--detach", "--room")
    assert up.returncode == 0, up.stderr
    try:
        secret_file = tmp_path / "rooms" / f"operator-secret-{port}"
        secret = secret_file.read_text().strip()
        assert secret and up.stdout.count(secret) == 1
        assert secret_file.stat().st_mode & 0o777 == 0o600
        assert secret not in (tmp_path / "lab.log").read_text(), "the log never holds it"
        endpoint = f"http://127.0.0.1:{port}"
        import boto3

        def kms(secret_key: str) -> Any:
            return boto3.client(
                "kms",
                region_name="us-east-1",
                endpoint_url=endpoint,
                aws_access_key_id=APP,
                aws_secret_access_key=secret_key,
            )

        code, _, _ = _error(lambda: kms("any secret").list_keys())
        assert code == "InvalidSignatureException"
        assert "Keys" in kms(secret).list_keys()
        # kmslab's own commands find the secret (harness.lab.operator) and keep working.
        shown = kmslab(tmp_path, "lab", "controls", "show")
        assert shown.returncode == 0, shown.stderr
        assert kmslab(tmp_path, "lab", "reset").returncode == 0
        ran = kmslab(tmp_path, "run", "key-disabled", "--format", "json")
        assert json.loads(ran.stdout)[0]["ok"] is True, ran.stderr
    finally:
        kmslab(tmp_path, "lab", "down")
    assert not secret_file.exists(), "the secret file goes with the lab"


def test_source_vpce_must_be_a_real_endpoint_of_the_callers_region(moto_lab: LabKit) -> None:
    ec2 = moto_lab.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    real = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName="com.amazonaws.us-east-1.kms", VpcEndpointType="Interface"
    )["VpcEndpoint"]["VpcEndpointId"]
    role = moto_lab.role("app", policy=allow())
    fake = "vpce-0123456789abcdef0"
    # The key trusts whatever endpoint the policy names; an attacker names one that never existed.
    gated = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{APP}:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": role}, "Action": "kms:*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceVpce": [fake, real]}}},
        ],
    }  # fmt: skip
    key = moto_lab.key(Policy=json.dumps(gated))["Arn"]
    creds = moto_lab.assume(role)
    through_fake = moto_lab.client("kms", creds=creds, headers={"X-Lab-Source-Vpce": fake})
    code, _, message = _error(lambda: through_fake.describe_key(KeyId=key))
    assert code == "AccessDeniedException" and fake in message
    through_real = moto_lab.client("kms", creds=creds, headers={"X-Lab-Source-Vpce": real})
    assert through_real.describe_key(KeyId=key)["KeyMetadata"]["Arn"] == key
    # The same endpoint cannot carry a call to another Region.
    elsewhere = moto_lab.client(
        "kms", region="us-west-2", creds=creds, headers={"X-Lab-Source-Vpce": real}
    )
    code, _, _ = _error(lambda: elsewhere.list_keys())
    assert code == "AccessDeniedException"


@pytest.mark.parametrize(
    "via",
    ["bogus.example", "s3.us-west-2.amazonaws.com", "notaservice.us-east-1.amazonaws.com"],
)
def test_via_service_must_be_a_service_endpoint_of_the_calls_region(
    moto_lab: LabKit, victim: dict[str, Any], via: str
) -> None:
    kms = moto_lab.client("kms", creds=victim["creds"], headers={"X-Lab-Via-Service": via})
    code, _, message = _error(lambda: kms.decrypt(CiphertextBlob=victim["blob"]))
    assert code == "AccessDeniedException" and via in message
    # conditions-kms.html#conditions-kms-via-service: "s3.us-east-1.amazonaws.com" is the form.
    real = moto_lab.client(
        "kms", creds=victim["creds"], headers={"X-Lab-Via-Service": "s3.us-east-1.amazonaws.com"}
    )
    assert real.decrypt(CiphertextBlob=victim["blob"])["Plaintext"] == b"secret"


# Run in a fresh interpreter: the test session's other labs (any conftest's, any xdist worker's)
# would otherwise be counted as this process's listening sockets.
_NO_PORT_PROBE = """
import json, os, boto3
from harness.lab import LabServer

def listening() -> set[int]:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports

with LabServer(upstream="moto", port=0) as server:
    kms = boto3.client("kms", endpoint_url=server.endpoint, region_name="us-east-1",
                       aws_access_key_id="111111111111", aws_secret_access_key="x")
    kms.create_key()  # the upstream is in use
    port = int(server.endpoint.rsplit(":", 1)[1])
    print(json.dumps({"lab": port, "listening": sorted(listening())}))
"""


def test_embedded_moto_listens_on_no_port(moto_lab: LabKit) -> None:
    import subprocess
    import sys

    probe = subprocess.run(
        [sys.executable, "-c", _NO_PORT_PROBE], capture_output=True, text=True, timeout=120
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen["listening"] == [seen["lab"]], f"only the lab's port is open: {seen}"
    health = moto_lab.admin.health()
    assert health["upstream"] == "moto" and "port" not in json.dumps(health)


def test_a_clock_moved_for_one_account_ages_no_other_accounts_sessions(
    moto_lab: LabKit, victim: dict[str, Any]
) -> None:
    from lab.labkit import OTHER

    other_role = moto_lab.role("neighbour", account=OTHER, policy=allow())
    neighbour = moto_lab.assume(other_role, "neighbour", DurationSeconds=900)
    moto_lab.admin.set_controls({"accounts": {APP: {"clock_offset_seconds": 3600}}})
    code, _, _ = _error(
        lambda: moto_lab.client("kms", creds=victim["creds"]).decrypt(CiphertextBlob=victim["blob"])
    )
    assert code == "ExpiredTokenException"
    assert "Keys" in moto_lab.client("kms", region="us-east-1", creds=neighbour).list_keys()
