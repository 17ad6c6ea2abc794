"""8 clients x 500 mixed calls with mixed principals against one lab: every response equals
what the evaluator (harness.policy, given the policies this test wrote) and the key state
predict, and no response is a 5xx."""

from __future__ import annotations

import json
import random
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.policy import evaluate
from lab.labkit import APP, OTHER, LabKit, allow

CLIENTS = 8
CALLS = 500
OPERATIONS = ("Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey")


def root(account: str) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


@pytest.mark.slow
def test_mixed_concurrent_calls_match_predictions(moto_lab: LabKit) -> None:
    lab = moto_lab
    reader_policy = allow(["kms:Encrypt", "kms:Decrypt"], "*")
    reader = lab.role("reader", policy=reader_policy)
    nobody = lab.role("nobody")
    named = {
        "Effect": "Allow",
        "Principal": {"AWS": nobody},
        "Action": ["kms:DescribeKey", "kms:GenerateDataKey"],
        "Resource": "*",
    }
    policies = {
        "open": {"Version": "2012-10-17", "Statement": [root(APP)]},
        "named": {"Version": "2012-10-17", "Statement": [root(APP), named]},
        "shared": {
            "Version": "2012-10-17",
            "Statement": [root(OTHER), {**root(APP), "Action": ["kms:Decrypt", "kms:Encrypt"]}],
        },
    }
    keys: dict[str, dict[str, Any]] = {
        "open": lab.key(Policy=json.dumps(policies["open"])),
        "named": lab.key(Policy=json.dumps(policies["named"])),
        "disabled": lab.key(Policy=json.dumps(policies["open"])),
        "shared": lab.key(account=OTHER, Policy=json.dumps(policies["shared"])),
    }
    policies["disabled"] = policies["open"]
    lab.client("kms").disable_key(KeyId=keys["disabled"]["Arn"])
    blobs = {}
    for name, key in keys.items():
        kms = lab.client("kms", key["AWSAccountId"])
        if name == "disabled":
            kms.enable_key(KeyId=key["Arn"])
        blobs[name] = kms.encrypt(KeyId=key["Arn"], Plaintext=b"p")["CiphertextBlob"]
        if name == "disabled":
            kms.disable_key(KeyId=key["Arn"])
    principals: dict[str, tuple[dict[str, str] | None, str, list[Any]]] = {
        "operator": (None, f"arn:aws:iam::{APP}:root", []),
        "reader": (
            lab.assume(reader, session="r1"),
            f"arn:aws:sts::{APP}:assumed-role/reader/r1",
            [json.loads(reader_policy)],
        ),
        "nobody": (
            lab.assume(nobody, session="n1"),
            f"arn:aws:sts::{APP}:assumed-role/nobody/n1",
            [],
        ),
    }

    def predict(principal: str, op: str, key: str) -> tuple[str, str]:
        _creds, arn, identity = principals[principal]
        meta = keys[key]
        if principal != "operator":
            result = evaluate(
                {
                    "request": {
                        "principal": arn,
                        "action": f"kms:{op}",
                        "resource": meta["Arn"],
                        "context": {},
                    },
                    "key_policy": policies[key],
                    "identity_policies": identity,
                    "key_metadata": {
                        "KeyManager": "CUSTOMER",
                        "KeySpec": "SYMMETRIC_DEFAULT",
                        "KeyUsage": "ENCRYPT_DECRYPT",
                        "Arn": meta["Arn"],
                    },
                }
            )
            if result.decision != "Allowed":
                message = result.message
                if op == "Decrypt":
                    message = message.replace(
                        f"on resource: {meta['Arn']}",
                        "on the resource associated with this ciphertext",
                    )
                return "AccessDeniedException", message
        if key == "disabled" and op != "DescribeKey":
            return "DisabledException", f"{meta['Arn']} is disabled."
        return "ok", ""

    failures: list[str] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        clients = {
            name: lab.client("kms", creds=creds) for name, (creds, _, _) in principals.items()
        }
        for _ in range(CALLS):
            principal = rng.choice(list(principals))
            op = rng.choice(OPERATIONS)
            key = rng.choice(list(keys))
            kms = clients[principal]
            arn = keys[key]["Arn"]
            try:
                if op == "Encrypt":
                    resp = kms.encrypt(KeyId=arn, Plaintext=b"p")
                elif op == "Decrypt":
                    resp = kms.decrypt(CiphertextBlob=blobs[key])
                elif op == "GenerateDataKey":
                    resp = kms.generate_data_key(KeyId=arn, KeySpec="AES_256")
                else:
                    resp = kms.describe_key(KeyId=arn)
                got = ("ok", "")
                status = resp["ResponseMetadata"]["HTTPStatusCode"]
            except ClientError as exc:
                got = (exc.response["Error"]["Code"], exc.response["Error"].get("Message", ""))
                status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
            want = predict(principal, op, key)
            with lock:
                statuses.append(status)
                if got != want:
                    failures.append(f"{principal} {op} {key}: got {got}, want {want}")

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == CLIENTS * CALLS
    assert all(s < 500 for s in statuses)
    assert failures == [], failures[:5]
