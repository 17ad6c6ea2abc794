"""Participants' credentials policies, exercise selection and handouts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.scenarios.catalog import load_file
from harness.scenarios.model import Scenario
from harness.workshop import access
from harness.workshop.exercises import Exercise, catalog_exercises, find_exercise, unsuitable
from harness.workshop.handouts import handout

CATALOG = Path(__file__).resolve().parent / "catalog"
ROOT = Path(__file__).resolve().parents[2]


def test_investigator_policy_only_reads() -> None:
    policy = access.investigator_identity_policy()
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert "kms:GetKeyPolicy" in actions and "kms:DescribeKey" in actions
    assert "cloudtrail:LookupEvents" in actions and "iam:GetRolePolicy" in actions
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    assert [a for a in actions if not access.is_read_action(a)] == []
    assert not any("*" in a for a in actions)


def test_fixer_policy_changes_only_its_own_account() -> None:
    policy = access.fixer_identity_policy("700000010001")
    change = policy["Statement"][0]
    assert set(change["Action"]) == {"kms:*", "iam:*"}
    for resource in change["Resource"]:
        assert re.match(r"^arn:aws:(kms:\*|iam:):700000010001:", resource), resource
    rest = [a for s in policy["Statement"][1:] for a in s["Action"]]
    assert [a for a in rest if not access.is_read_action(a)] == ["kms:CreateKey"]


def test_workshop_statements_go_into_own_key_policies_only() -> None:
    scenario = load_file(CATALOG / "key-policy" / "ws-role-not-listed.yaml")
    live = access.with_workshop_access(scenario, ["700000010001"])
    sids = [s.get("Sid") for s in live.setup["keys"]["data"]["policy"]["Statement"]]
    assert sids[-2:] == [access.INVESTIGATOR_SID, access.ADMIN_SID]
    fixed = [s.get("Sid") for s in live.fixed().setup["keys"]["data"]["policy"]["Statement"]]
    assert fixed[-2:] == [access.INVESTIGATOR_SID, access.ADMIN_SID]
    admin = live.setup["keys"]["data"]["policy"]["Statement"][-1]
    # Key administrators may not use the key for cryptography (key-policy-default.html).
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:*"} & set(admin["Action"])
    plain = load_file(CATALOG / "iam" / "ws-iam-no-allow.yaml")
    assert (
        "policy" not in access.with_workshop_access(plain, ["700000010001"]).setup["keys"]["data"]
    )


def test_the_exercises_of_a_catalog() -> None:
    found, skipped = catalog_exercises(CATALOG)
    assert sorted(e.id for e in found) == [
        "ws-iam-no-allow",
        "ws-key-disabled",
        "ws-role-not-listed",
    ]
    assert skipped == {}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"control": True, "expected": {"error": None, "finding": "NO_FAULT_FOUND"}}, "control"),
        ({"hints": []}, "no hints"),
    ],
)
def test_scenarios_that_are_not_exercises(change: dict, reason: str) -> None:  # type: ignore[type-arg]
    scenario = load_file(CATALOG / "key-state" / "ws-key-disabled.yaml")
    raw = {**scenario.raw, **change}
    if "setup" in change:
        raw["setup"] = {**scenario.raw["setup"], **change["setup"]}
    found = unsuitable(Scenario(raw))
    assert found is not None and reason in found


def test_unknown_exercise_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown exercise 'nope'"):
        find_exercise("nope", CATALOG)


def exercise(name: str) -> Exercise:
    return find_exercise(name, CATALOG)


def test_markdown_handout_has_every_section_and_the_solution_last() -> None:
    text = handout(exercise("ws-role-not-listed"), "md")
    order = [
        "# Exercise ws-role-not-listed:",
        "## The incident",
        "## Learning goals",
        "## Start",
        "## Hints",
        "---",
        "## Solution",
    ]
    positions = [text.index(h) for h in order]
    assert positions == sorted(positions)
    assert "A new worker role was added for the reporting job." in text
    assert "kmslab workshop start ws-role-not-listed" in text
    assert "1. Read the key policy, not only the role's IAM policy." in text
    hints, solution = text.split("## Solution")
    # The answer appears only in the solution section.
    assert "KEY_POLICY_NO_ALLOW" not in hints and "KEY_POLICY_NO_ALLOW" in solution
    assert "Add the role's ARN to the key policy statement" in solution
    assert "https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html" in solution


def test_html_handout_is_printable_and_escaped() -> None:
    text = handout(exercise("ws-iam-no-allow"), "html")
    assert text.startswith("<!DOCTYPE html>")
    assert '<section class="solution">' in text and "page-break-before: always" in text
    exercise_part, solution_part = text.split('<section class="solution">')
    assert "IAM_NO_ALLOW" not in exercise_part and "IAM_NO_ALLOW" in solution_part
    assert "<li>List the role&#x27;s inline policies and read them.</li>" in exercise_part
    assert "<code>aws iam get-role-policy</code>" in exercise_part


def test_handout_cli_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "h.html"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "workshop",
            "--catalog",
            str(CATALOG),
            "handout",
            "ws-key-disabled",
            "--format",
            "html",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "<h1>Exercise ws-key-disabled: Decrypt fails because the key was disabled</h1>"
        in out.read_text()
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["start", "nope", "--participant", "x"], "unknown exercise 'nope'"),
        (["start", "ws-key-disabled"], "--participant NAME or KMSLAB_PARTICIPANT"),
        (["start", "ws-key-disabled", "--participant", "bad name"], "participant name 'bad name'"),
        (["hint", "--participant", "nobody"], "has not started an exercise"),
        (["handout", "ws-key-disabled", "--out", "/nonexistent/dir/h.md"], "cannot write"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "KMSLAB_STATE_DIR": str(tmp_path), "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "workshop", "--catalog", str(CATALOG), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_docs_and_handouts_state_what_the_issued_policies_allow() -> None:
    """docs/workshop.md and every handout carry the capabilities generated from the policies
    `create_roles` issues; nothing claims investigators "can only read" while their policy
    says otherwise, and every action of both policies is named."""
    docs = (ROOT / "docs" / "workshop.md").read_text()
    section = docs.split("<!-- capabilities:start -->\n")[1].split("<!-- capabilities:end -->")[0]
    assert section == access.capabilities_markdown()
    exercise = find_exercise("ws-key-disabled", CATALOG)
    text = handout(exercise, "md")
    for policy in (access.investigator_identity_policy(), access.fixer_identity_policy("1")):
        for statement in policy["Statement"]:
            for action in statement["Action"]:
                service, _, name = action.partition(":")
                assert service in text and name in text, action
    assert "can only read" not in text and "can only read" not in docs


def test_the_lab_holds_exactly_the_policies_the_handout_describes(lab: object) -> None:
    """What a started exercise's roles really carry in the lab is what the text was made from."""
    import json

    import boto3

    from harness.lab.operator import operator_credentials
    from harness.workshop import Room, WorkshopStore

    endpoint = lab.endpoint  # type: ignore[attr-defined]
    tmp = Path(__import__("tempfile").mkdtemp())
    record = Room(
        endpoint, store=WorkshopStore(tmp / "s.json"), catalog_root=CATALOG, workdir=tmp
    ).start("hanna", "ws-key-disabled")
    account = record["accounts"]["app"]
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        **operator_credentials(endpoint, account).as_boto3(),
    )
    for role, expected in (
        (access.INVESTIGATOR_ROLE, access.investigator_identity_policy()),
        (access.FIXER_ROLE, access.fixer_identity_policy(account)),
    ):
        doc = iam.get_role_policy(RoleName=role, PolicyName="access")["PolicyDocument"]
        assert (json.loads(doc) if isinstance(doc, str) else doc) == expected
