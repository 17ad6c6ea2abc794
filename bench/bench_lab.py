"""Lab endpoint: Decrypt latency through the lab vs directly against the upstream, start-up time."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import botocore.config

from bench.report import Report, Row, percentile, timed
from harness.lab import LabClient, LabServer

SAMPLES = 400
WARMUP = 30


def _client(endpoint: str, **creds: Any) -> Any:
    if not creds:
        creds = {"aws_access_key_id": "111111111111", "aws_secret_access_key": "operator"}
    return boto3.client(
        "kms",
        region_name="us-east-1",
        endpoint_url=endpoint,
        config=botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        **creds,
    )


def _decrypt_samples(kms: Any, blob: bytes) -> list[float]:
    for _ in range(WARMUP):
        kms.decrypt(CiphertextBlob=blob)
    return timed(lambda: kms.decrypt(CiphertextBlob=blob), SAMPLES)


def run(report: Report) -> None:
    from moto.server import ThreadedMotoServer

    start = time.perf_counter()
    server = LabServer(upstream="moto", port=0).start()
    startup = time.perf_counter() - start
    # The lab calls moto in-process (no port); the "moto direct" baseline is moto's own server.
    moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto_server.start()
    host, port = moto_server.get_host_and_port()
    try:
        LabClient(server.endpoint).reset()
        direct = _client(f"http://{host}:{port}")
        direct_key = direct.create_key()["KeyMetadata"]["KeyId"]
        direct_blob = direct.encrypt(KeyId=direct_key, Plaintext=b"x" * 32)["CiphertextBlob"]
        base = _decrypt_samples(direct, direct_blob)

        lab = _client(server.endpoint)
        key = lab.create_key()["KeyMetadata"]["Arn"]
        blob = lab.encrypt(KeyId=key, Plaintext=b"x" * 32)["CiphertextBlob"]
        operator = _decrypt_samples(lab, blob)

        iam = boto3.client(
            "iam",
            region_name="us-east-1",
            endpoint_url=server.endpoint,
            aws_access_key_id="111111111111",
            aws_secret_access_key="operator",
        )
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam.create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(
            RoleName="bench",
            PolicyName="p",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}],
                }
            ),
        )
        sts = boto3.client(
            "sts",
            region_name="us-east-1",
            endpoint_url=server.endpoint,
            aws_access_key_id="111111111111",
            aws_secret_access_key="operator",
        )
        creds = sts.assume_role(
            RoleArn="arn:aws:iam::111111111111:role/bench", RoleSessionName="bench"
        )["Credentials"]
        issued = _client(
            server.endpoint,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        authorized = _decrypt_samples(issued, blob)
        # The cost of SigV4 verification, same run: the same calls with checks switched off
        # (an in-process switch only; no HTTP route turns verification off).
        assert server.lab is not None
        server.lab.authn.verify_signatures = False
        unverified = _decrypt_samples(issued, blob)
        server.lab.authn.verify_signatures = True
        verified = _decrypt_samples(issued, blob)
        # The cost of model validation of the parameters, same run, the same way; rounds
        # alternate so that drift in the machine's load falls on both sides.
        unvalidated: list[float] = []
        validated: list[float] = []
        for _ in range(2):
            server.lab.validate_input = False
            unvalidated += _decrypt_samples(issued, blob)
            server.lab.validate_input = True
            validated += _decrypt_samples(issued, blob)
    finally:
        moto_server.stop()
        server.stop()

    ms = 1000.0
    for label, samples in (("operator", operator), ("issued, authorized", authorized)):
        report.add(
            Row(
                f"Decrypt p50 via lab ({label})",
                percentile(samples, 50) * ms,
                "ms",
                "moto direct p50",
                percentile(base, 50) * ms,
                "<= 3x (operator)",
            )
        )
        report.add(
            Row(
                f"Decrypt p95 via lab ({label})",
                percentile(samples, 95) * ms,
                "ms",
                "moto direct p95",
                percentile(base, 95) * ms,
            )
        )

    report.add(
        Row(
            "Decrypt p50 via lab (issued, signature verified)",
            percentile(verified, 50) * ms,
            "ms",
            "same, verification off",
            percentile(unverified, 50) * ms,
            "<= 1.5x",
        )
    )
    report.add(
        Row(
            "Decrypt p50 via lab (issued, input validated)",
            percentile(validated, 50) * ms,
            "ms",
            "same, validation off",
            percentile(unvalidated, 50) * ms,
        )
    )
    report.add(
        Row(
            "Decrypt p50 via lab (issued, verification off)",
            percentile(unverified, 50) * ms,
            "ms",
            "moto direct p50",
            percentile(base, 50) * ms,
        )
    )

    start = time.perf_counter()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    moto_startup = time.perf_counter() - start
    moto.stop()
    start = time.perf_counter()
    again = LabServer(upstream="moto", port=0).start()
    warm_startup = time.perf_counter() - start
    again.stop()
    report.add(Row("lab start-up, first in process (embedded moto)", startup * ms, "ms"))
    report.add(
        Row(
            "lab start-up, warm", warm_startup * ms, "ms", "moto server start-up", moto_startup * ms
        )
    )
    _cli_startup(report)


def _cli_startup(report: Report) -> None:
    """`kmslab lab up --detach` until healthy, beside a bare `kmslab --version` process."""
    import os
    import socket
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as state:
        env = {**os.environ, "KMSLAB_STATE_DIR": state}
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "harness", "--version"], env=env, capture_output=True, check=True
        )
        bare = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "harness", "lab", "up", "--port", str(port), "--detach"],
            env=env,
            capture_output=True,
            check=True,
        )
        detached = time.perf_counter() - start
        subprocess.run(
            [sys.executable, "-m", "harness", "lab", "down"],
            env=env,
            capture_output=True,
            check=False,
        )
    report.add(
        Row(
            "kmslab lab up --detach until healthy",
            detached * 1000,
            "ms",
            "kmslab --version process",
            bare * 1000,
        )
    )
