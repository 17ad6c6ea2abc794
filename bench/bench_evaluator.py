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


def _rate(docs: list[dict[str, Any]], seconds: float, with_trace: bool = False) -> float:
    for d in docs:  # warm the parse cache: compiling once per document text is allowed
        evaluate(d)
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for d in docs:
            r = evaluate(d)
            if with_trace:
                r.to_dict()
            else:
                _ = r.decision
            n += 1
    return n / (time.perf_counter() - start)


def run(report: Report) -> None:
    text_docs = [request(c, True) for c in CONTEXTS.values()]
    dict_docs = [request(c, False) for c in CONTEXTS.values()]
    expected = ["Allowed", "ImplicitDeny", "ExplicitDeny"]
    assert [evaluate(d).decision for d in text_docs] == expected

    baseline_name = baseline = None
    oracle = _oracle()
    why = oracle.ensure_installed()
    if why is None:
        repeat = 1000
        result = oracle.run_batch(
            [(k, d) for k, d in zip(CONTEXTS, dict_docs, strict=True)], repeat
        )
        assert list(result["results"].values()) == expected, result
        baseline_name = f"iam-simulate {oracle.VERSION}"
        baseline = result["evaluations"] / result["seconds"]
    else:
        print(f"iam-simulate baseline skipped: {why}")

    target = ">= 30,000/s and >= 10x iam-simulate"
    for name, docs, trace in (
        ("evaluate, policies as JSON text (decision)", text_docs, False),
        ("evaluate, policies as dicts (decision)", dict_docs, False),
        ("evaluate + to_dict with trace", text_docs, True),
    ):
        report.add(
            Row(
                name=name,
                value=_rate(docs, 2.0, trace),
                unit="eval/s",
                baseline_name=baseline_name,
                baseline_value=baseline,
                target=target if not trace and docs is text_docs else "",
                higher_is_better=True,
            )
        )
