"""Fuzz suite (issue 12): thousands of model-derived requests across every operation the lab
serves, as an operator and as issued credentials; none may crash the lab.

What "every operation the lab serves" means here: every operation of the service models the
lab answers itself (KMS: its handlers; Organizations, CloudTrail, Health: the whole model, as
the lab answers each one, if only with an AWS error), and for what it forwards to embedded
moto (IAM, STS, CloudWatch Logs, EC2) every operation moto implements; for EC2 only the VPC,
subnet, security group, tag and Region families, the part of EC2 kmslab uses (VPC endpoints).

Asserted per response: no 5xx; every 4xx carries an AWS error code (JSON/CBOR `__type`, XML
`<Code>`), never an HTML page. Asserted afterwards: the lab is healthy and consistent: a key
of an account the fuzzing never touched still decrypts for its issued caller, AssumeRole
still issues working credentials, and an unauthorized caller is still refused with
AccessDeniedException (not with an error).
"""

from __future__ import annotations

from typing import Any

import pytest
import urllib3
from botocore import xform_name

from lab.fuzzgen import Generator, model
from lab.labkit import APP, OTHER, LabKit, allow
from lab.rawcall import Reply

SEED = 20261206
PER_OPERATION = 5  # operator and issued in turn; rounds 2 and 3 hostile
EC2_FAMILIES = ("Vpc", "Subnet", "SecurityGroup", "Tags", "Region", "AvailabilityZone")


def served_operations(lab: LabKit) -> list[tuple[str, str]]:
    import moto.ec2.responses
    import moto.iam.responses
    import moto.logs.responses
    import moto.sts.responses

    assert lab.server.lab is not None
    ops = [("kms", name) for name in sorted(lab.server.lab.kms.routes)]
    for service in ("organizations", "cloudtrail", "health"):
        ops += [(service, name) for name in model(service).operation_names]
    forwarded = {
        "iam": moto.iam.responses.IamResponse,
        "logs": moto.logs.responses.LogsResponse,
        "ec2": moto.ec2.responses.EC2Response,
        "sts": moto.sts.responses.TokenResponse,
    }
    for service, responses in forwarded.items():
        for name in model(service).operation_names:
            if not hasattr(responses, xform_name(name)):
                continue
            if service == "ec2" and not any(f in name for f in EC2_FAMILIES):
                continue
            ops.append((service, name))
    for name in ("AssumeRole", "GetSessionToken", "GetCallerIdentity"):
        if ("sts", name) not in ops:
            ops.append(("sts", name))
    return ops


@pytest.fixture
def world(moto_lab: LabKit) -> dict[str, Any]:
    """A sentinel in an account the fuzzing never touches, and the fuzzers' identities."""
    sentinel_role = moto_lab.role(
        "sentinel", account=OTHER, policy=allow(action="kms:Decrypt", resource="*")
    )
    sentinel_key = moto_lab.key(account=OTHER, Description="sentinel")
    blob = moto_lab.client("kms", OTHER).encrypt(KeyId=sentinel_key["Arn"], Plaintext=b"canary")[
        "CiphertextBlob"
    ]
    fuzz_role = moto_lab.role("fuzz-role", policy=allow(action="*", resource="*"))
    fuzz_key = moto_lab.key(Description="fuzz")
    kms = moto_lab.client("kms")
    kms.create_alias(AliasName="alias/fuzz", TargetKeyId=fuzz_key["KeyId"])
    moto_lab.client("iam").create_user(UserName="fuzz-user")
    moto_lab.client("logs").create_log_group(logGroupName="fuzz-group")
    known = {
        "KeyId": [fuzz_key["Arn"], fuzz_key["KeyId"], "alias/fuzz"],
        "TargetKeyId": [fuzz_key["KeyId"]],
        "DestinationKeyId": [fuzz_key["Arn"]],
        "AliasName": ["alias/fuzz", "alias/fuzz2"],
        "GranteePrincipal": [fuzz_role],
        "RoleName": ["fuzz-role"],
        "RoleArn": [fuzz_role],
        "RoleSessionName": ["fuzzsession"],
        "UserName": ["fuzz-user"],
        "PolicyArn": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "logGroupName": ["fuzz-group"],
        "Name": ["fuzz-trail", "fuzz"],
    }
    return {
        "sentinel_role": sentinel_role,
        "sentinel_creds": moto_lab.assume(sentinel_role, "sentinel", account=OTHER),
        "blob": blob,
        "fuzz_creds": moto_lab.assume(fuzz_role, "fuzzer"),
        "known": known,
    }


@pytest.mark.slow
def test_fuzz_never_crashes_the_lab(moto_lab: LabKit, world: dict[str, Any]) -> None:
    operations = served_operations(moto_lab)
    services = {service for service, _ in operations}
    assert services == {
        "kms",
        "iam",
        "sts",
        "ec2",
        "logs",
        "cloudtrail",
        "organizations",
        "health",
    }
    generator = Generator(SEED, world["known"])
    operator = {"AccessKeyId": APP, "SecretAccessKey": "operator"}
    pool = urllib3.PoolManager(maxsize=4, retries=False)
    sent = 0
    violations: list[str] = []
    codes: dict[int, int] = {}
    for index in range(PER_OPERATION):
        creds = operator if index % 2 == 0 else world["fuzz_creds"]
        hostile = index % 4 >= 2
        for service, operation in operations:
            built = generator.build(moto_lab.endpoint, service, operation, creds, hostile=hostile)
            resp = pool.request(
                built.method,
                built.url,
                body=built.body,
                headers=built.headers,
                timeout=30.0,
                redirect=False,
            )
            sent += 1
            reply = Reply(resp.status, resp.headers.get("Content-Type", ""), resp.data)
            codes[reply.status // 100] = codes.get(reply.status // 100, 0) + 1
            who = "operator" if creds is operator else "issued"
            where = f"{service}:{operation} as {who} ({built.mutated or 'model-shaped'})"
            if reply.status >= 500:
                violations.append(f"{where}: {reply.status} {reply.text[:200]}")
            elif reply.status >= 400 and not reply.code:
                violations.append(
                    f"{where}: {reply.status} without an AWS code: {reply.text[:120]}"
                )
            elif reply.text.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
                violations.append(f"{where}: an HTML page reached the client")
    assert sent >= 2000
    assert violations == [], f"{len(violations)} of {sent}: " + "\n".join(violations[:15])
    # Both outcomes were exercised: the generator reached the lab's logic, not only its guard.
    assert codes.get(2, 0) > sent // 10 and codes.get(4, 0) > sent // 10, codes

    # The lab is healthy and consistent afterwards.
    assert moto_lab.admin.health()["status"] == "ok"
    sentinel = moto_lab.client("kms", OTHER, creds=world["sentinel_creds"])
    assert sentinel.decrypt(CiphertextBlob=world["blob"])["Plaintext"] == b"canary"
    fresh = moto_lab.assume(world["sentinel_role"], "after-fuzz", account=OTHER)
    again = moto_lab.client("kms", OTHER, creds=fresh)
    assert again.decrypt(CiphertextBlob=world["blob"])["Plaintext"] == b"canary"
    nobody = moto_lab.role("nobody", account=OTHER, policy=allow(action="sts:GetCallerIdentity"))
    denied = moto_lab.client("kms", OTHER, creds=moto_lab.assume(nobody, "nobody", account=OTHER))
    with pytest.raises(denied.exceptions.ClientError) as exc:
        denied.decrypt(CiphertextBlob=world["blob"])
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "(lab:" not in exc.value.response["Error"]["Message"]
