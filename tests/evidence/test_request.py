"""The request under investigation: principal and key forms AWS uses.

ARN formats: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
(an assumed-role ARN carries the role name without its path) and
https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from harness.errors import UsageError
from harness.evidence import InvestigationRequest
from harness.evidence.request import parse_key, parse_principal

from .lab_world import LabWorld
from .support import Collect


@pytest.mark.parametrize(
    ("arn", "kind", "name", "session"),
    [
        ("arn:aws:sts::111111111111:assumed-role/app/i-0abc", "assumed-role", "app", "i-0abc"),
        ("arn:aws:sts::111111111111:assumed-role/app/user@example.com", "assumed-role", "app", "user@example.com"),
        ("arn:aws:iam::111111111111:role/team/app", "role", "app", ""),
        ("arn:aws:iam::111111111111:user/ops/alice", "user", "alice", ""),
        ("arn:aws:iam::111111111111:root", "root", "root", ""),
        ("arn:aws-us-gov:iam::111111111111:role/app", "role", "app", ""),
    ],
)  # fmt: skip
def test_principal_forms(arn: str, kind: str, name: str, session: str) -> None:
    principal = parse_principal(arn)
    assert (principal.kind, principal.name, principal.session) == (kind, name, session)
    assert principal.account == "111111111111"


@pytest.mark.parametrize(
    "arn", ["role/app", "arn:aws:iam::1111:role/app", "arn:aws:s3:::bucket", ""]
)
def test_bad_principals(arn: str) -> None:
    with pytest.raises(UsageError, match="principal"):
        parse_principal(arn)


@pytest.mark.parametrize(
    ("key", "kind", "account", "region"),
    [
        ("1234abcd-12ab-34cd-56ef-1234567890ab", "key-id", None, None),
        ("mrk-1234abcd12ab34cd56ef1234567890ab", "key-id", None, None),
        ("alias/app-data", "alias", None, None),
        ("arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab", "key-arn", "222222222222", "eu-west-1"),
        ("arn:aws:kms:us-east-1:222222222222:alias/app-data", "alias-arn", "222222222222", "us-east-1"),
    ],
)  # fmt: skip
def test_key_forms(key: str, kind: str, account: str | None, region: str | None) -> None:
    ref = parse_key(key)
    assert (ref.kind, ref.account, ref.region) == (kind, account, region)


def test_request_extensions_never_hold_ciphertext_bytes() -> None:
    with pytest.raises(UsageError, match="never the bytes"):
        InvestigationRequest(principal="arn:aws:iam::111111111111:role/app", action="kms:Decrypt",
                             key="alias/a", ciphertext={"length": 3, "blob": "AQID"})  # fmt: skip
    req = InvestigationRequest(principal="arn:aws:iam::111111111111:role/app", action="kms:Decrypt",
                               key="alias/a", ciphertext={"length": 184, "kms_blob": True},
                               grant_tokens=2, key_account="222222222222")  # fmt: skip
    assert req.to_dict("us-east-1") == {
        "principal": "arn:aws:iam::111111111111:role/app", "action": "kms:Decrypt", "key": "alias/a",
        "region": "us-east-1", "grant_tokens": 2, "key_account": "222222222222",
        "ciphertext": {"length": 184, "kms_blob": True},
    }  # fmt: skip


def test_independent_calls_are_in_flight_together(lab: LabWorld, lab_run: Collect) -> None:
    lab.role("app")
    key = lab.key()
    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    def overlap(client: Any, service: str) -> None:
        def start(**_: Any) -> None:
            with lock:
                state["now"] += 1
                state["most"] = max(state["most"], state["now"])
            time.sleep(0.05)  # long enough for concurrent calls to meet

        def end(**_: Any) -> None:
            with lock:
                state["now"] -= 1

        client.meta.events.register("before-send.*.*", start)
        client.meta.events.register("needs-retry.*.*", end)

    lab_run(InvestigationRequest(principal=f"arn:aws:sts::{lab.account}:assumed-role/app/s1",
                                 action="kms:Decrypt", key=key["Arn"]), client_hook=overlap)  # fmt: skip
    assert state["most"] >= 4
