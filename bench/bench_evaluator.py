"""Policy evaluator: evaluations per second against iam-simulate on the same requests."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.report import Report, Row
from harness.policy import evaluate

KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "EnableIAM",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "KeyAdmins",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:role/admin"},
            "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*"],
            "Resource": "*",
        },
        {
            "Sid": "DenyOutsideOrg",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "kms:*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        },
    ],
}
APP_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "arn:aws:kms:*:111111111111:key/*",
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
        }
    ],
}
S3_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"},
        {"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"},
    ],
}
BOUNDARY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}],
}
SCP_ROOT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
SCP_OU = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "kms:*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
        },
    ],
}


def request(context: dict[str, Any], as_text: bool) -> dict[str, Any]:
    def p(doc: dict[str, Any]) -> Any:
        return json.dumps(doc) if as_text else doc

    return {
        "request": {
            "principal": "arn:aws:sts::111111111111:assumed-role/app/i-0abc",
            "action": "kms:Decrypt",
            "resource": KEY,
            "context": context,
        },
        "key_policy": p(KEY_POLICY),
        "identity_policies": [p(APP_POLICY), p(S3_POLICY)],
        "permissions_boundary": p(BOUNDARY),
        "scps": [[p(SCP_ROOT)], [p(SCP_OU)]],
    }


CONTEXTS = {
    "allowed": {"kms:ViaService": "s3.us-east-1.amazonaws.com", "aws:PrincipalOrgID": "o-abc123"},
    "implicit": {"aws:PrincipalOrgID": "o-abc123"},
    "explicit": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
}


def _oracle() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "tests" / "policy" / "oracle_support.py"
    spec = importlib.util.spec_from_file_location("kmslab_oracle_support", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rate(
    docs: list[dict[str, Any]], seconds: float, with_trace: bool = False
) -> tuple[float, float]:
    """(evaluations per wall-clock second, per CPU second of this process)."""
    for d in docs:  # warm the parse cache: compiling once per document text is allowed
        evaluate(d)
    n = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    while time.perf_counter() - start < seconds:
        for d in docs:
            r = evaluate(d)
            if with_trace:
                r.to_dict()
            else:
                _ = r.decision
            n += 1
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return n / wall, n / cpu if cpu > 0 else float("nan")


def run(report: Report) -> None:
    text_docs = [request(c, True) for c in CONTEXTS.values()]
    dict_docs = [request(c, False) for c in CONTEXTS.values()]
    expected = ["Allowed", "ImplicitDeny", "ExplicitDeny"]
    assert [evaluate(d).decision for d in text_docs] == expected

    base_wall = base_cpu = None
    baseline_name = None
    oracle = _oracle()
    why = oracle.ensure_installed()
    if why is None:
        repeat = 1000
        result = oracle.run_batch(
            [(k, d) for k, d in zip(CONTEXTS, dict_docs, strict=True)], repeat
        )
        assert list(result["results"].values()) == expected, result
        baseline_name = f"iam-simulate {oracle.VERSION}"
        base_wall = result["evaluations"] / result["seconds"]
        base_cpu = result["evaluations"] / result["cpu_seconds"]
    else:
        print(f"iam-simulate baseline skipped: {why}")

    # CPU-time rates compare the two engines fairly on a shared machine; wall-clock rates are what
    # one caller sees. The target applies to the first row.
    target = ">= 30,000/s and >= 10x iam-simulate"
    for name, docs, trace in (
        ("evaluate: policy texts, decision", text_docs, False),
        ("evaluate: policy dicts, decision", dict_docs, False),
        ("evaluate: policy texts, to_dict+trace", text_docs, True),
    ):
        wall, cpu = _rate(docs, 2.0, trace)
        report.add(
            Row(
                name=f"{name} (CPU)",
                value=cpu,
                unit="eval/s",
                baseline_name=f"{baseline_name} (CPU)" if baseline_name else None,
                baseline_value=base_cpu,
                target=target if docs is text_docs and not trace else "",
                higher_is_better=True,
            )
        )
        report.add(
            Row(
                name=f"{name} (wall)",
                value=wall,
                unit="eval/s",
                baseline_name=f"{baseline_name} (wall)" if baseline_name else None,
                baseline_value=base_wall,
                higher_is_better=True,
            )
        )
