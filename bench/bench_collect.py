"""Evidence collection: calls and seconds for a same-account key and role against the lab."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from typing import Any

from bench.report import Report, Row, median, timed
from harness.aws.clients import Target
from harness.evidence import CollectOptions, InvestigationRequest, run_collection
from harness.evidence.calls import make_client

ACCOUNT = "111111111111"
REPEAT = 10


def _setup(endpoint: str) -> tuple[Target, InvestigationRequest, int, int]:
    """A role with one inline and one attached policy, a key behind an alias, a failed Decrypt."""
    operator = Target(endpoint_url=endpoint, region="us-east-1", access_key_id=ACCOUNT,
                      secret_access_key="bench")  # fmt: skip
    iam = make_client(operator, "iam", "us-east-1", 1)
    kms = make_client(operator, "kms", "us-east-1", 1)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}  # fmt: skip
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(trust))
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName="app", PolicyName="app-kms", PolicyDocument=json.dumps(allow))
    managed = iam.create_policy(PolicyName="app-managed", PolicyDocument=json.dumps(allow))[
        "Policy"
    ]["Arn"]
    iam.attach_role_policy(RoleName="app", PolicyArn=managed)
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/app-data", TargetKeyId=key["KeyId"])
    creds = make_client(operator, "sts", "us-east-1", 1).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/app", RoleSessionName="i-0abc"
    )["Credentials"]
    app = Target(endpoint_url=endpoint, region="us-east-1", access_key_id=creds["AccessKeyId"],
                 secret_access_key=creds["SecretAccessKey"], session_token=creds["SessionToken"])  # fmt: skip
    app_kms = make_client(app, "kms", "us-east-1", 1)
    blob = app_kms.encrypt(KeyId="alias/app-data", Plaintext=b"bench")["CiphertextBlob"]
    with contextlib.suppress(Exception):  # the failure under investigation
        app_kms.decrypt(CiphertextBlob=blob)
    req = InvestigationRequest(principal=f"arn:aws:sts::{ACCOUNT}:assumed-role/app/i-0abc",
                               action="kms:Decrypt", key="alias/app-data", region="us-east-1")  # fmt: skip
    return operator, req, 1, 1


def by_hand(inline: int, attached: int) -> int:
    """AWS CLI commands the runbook's eight Playbook steps take when followed as written.

    Each step retrieves what it names, even when an earlier step already did (steps 2, 5 and
    7 each retrieve the key policy; 1 and 6 the key), because a person follows them in turn.
    """
    steps = {
        1: 2,  # health describe-events, kms describe-key
        2: 1,  # kms get-key-policy
        3: 2,  # kms list-aliases, then list-aliases --key-id
        4: 3 + inline + 2 * attached,  # get-role, list-role-policies, list-attached-role-policies,
        # get-role-policy each, get-policy + get-policy-version each; plus sts get-caller-identity:
        5: 1,  # kms get-key-policy (again, to compare principals)
        6: 1,  # kms describe-key (again, for state)
        7: 4,  # get-key-policy (resource policy), list-grants, get-key-rotation-status, list-key-rotations
        8: 3,  # logs describe-log-groups, cloudtrail describe-trails, logs filter-log-events
    }
    return sum(steps.values()) + 1  # sts get-caller-identity to know where you are


LAB = """
import sys
from harness.lab import LabServer
server = LabServer(upstream="moto", port=0).start()
print(server.endpoint, flush=True)
sys.stdin.read()  # until the bench closes our stdin
server.stop()
"""


def run(report: Report) -> None:
    # The lab runs in its own process, as `kmslab lab up` does: in this process its request
    # handling would share the GIL with the collector's threads and hide the concurrency.
    lab = subprocess.Popen([sys.executable, "-c", LAB], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        assert lab.stdout is not None
        endpoint = lab.stdout.readline().strip()
        operator, req, inline, attached = _setup(endpoint)
        options = CollectOptions(max_attempts=1)
        result = run_collection(req, operator, options=options)  # warms the lab's backends
        cold = _fresh_process(endpoint, req)
        samples = timed(lambda: run_collection(req, operator, options=options), REPEAT)
        sequential = timed(lambda: _replay_sequentially(operator, result.bundle["calls"]), REPEAT)
        throttled = _throttled(endpoint, req, operator)
    finally:
        assert lab.stdin is not None
        lab.stdin.close()
        lab.wait(timeout=30)
    report.add(Row("API calls, same-account key and role", len(result.operations), "calls",
                   "runbook by hand (AWS CLI commands)", by_hand(inline, attached),
                   target="<= 25"))  # fmt: skip
    report.add(Row("collect, same-account key and role (median)", median(samples), "s",
                   "same calls one after another", median(sequential), target="< 1 s"))  # fmt: skip
    report.add(Row("collect in a fresh process (botocore loads models)", cold, "s",
                   "warm collect (median)", median(samples), target="< 1 s warm"))  # fmt: skip
    report.add(Row("collect under sustained KMS throttling, CLI retries (median)",
                   median(throttled), "s", "unthrottled warm collect (median)", median(samples),
                   target="about 1 s (was the 60 s deadline)"))  # fmt: skip


def _throttled(endpoint: str, req: InvestigationRequest, operator: Target) -> list[float]:
    """Every KMS call of the account throttled (the catalog's `throttled` scenario)."""
    from harness.lab import LabClient

    client = LabClient(endpoint)
    client.set_controls({"throttle": {ACCOUNT: 0}})
    try:
        # The CLI's own options: four tries per call, adaptive retries, 60 s deadline.
        return timed(lambda: run_collection(req, operator, options=CollectOptions()), 5)
    finally:
        client.set_controls({"throttle": {ACCOUNT: None}})


FRESH = """
import sys, time
from harness.aws.clients import Target
from harness.evidence import CollectOptions, InvestigationRequest, run_collection
req = InvestigationRequest(principal=sys.argv[2], action="kms:Decrypt", key=sys.argv[3], region="us-east-1")
target = Target(endpoint_url=sys.argv[1], region="us-east-1", access_key_id=sys.argv[4], secret_access_key="b")
start = time.perf_counter()
run_collection(req, target, options=CollectOptions(max_attempts=1))
print(time.perf_counter() - start)
"""


def _fresh_process(endpoint: str, req: InvestigationRequest) -> float:
    """What `kmslab collect` pays once per run, imports excluded: model loading included."""
    out = subprocess.run(
        [sys.executable, "-c", FRESH, endpoint, req.principal, req.key, ACCOUNT],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def _replay_sequentially(target: Target, calls: list[dict[str, Any]]) -> None:
    """The bundle's calls made one at a time, as a script without concurrency would."""
    for call in calls:
        if "response" not in call or call.get("params") is None:
            continue
        client = make_client(target, call["service"], call["region"], 1)
        method = getattr(client, _snake(call["operation"]))
        params = {
            k: v
            for k, v in call["params"].items()
            if k not in ("StartTime", "EndTime", "startTime")
        }
        with contextlib.suppress(Exception):
            method(**params)


def _snake(operation: str) -> str:
    from botocore import xform_name

    return str(xform_name(operation))
