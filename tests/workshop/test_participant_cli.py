"""End to end, the way a room uses it: `kmslab workshop` and the real AWS CLI as subprocesses
against an in-process lab.

Expectations come from AWS documentation:
- key-state.html: a Disabled key cannot be used; EnableKey makes it usable again.
- key-policy-overview.html: Principal "*" allows every principal of every account unless a
  condition limits it.
- iam-policies.html / policy-evaluation.html: with the root statement in the key policy, an IAM
  policy that allows kms:Decrypt on the key is what the role needs.
- key-policy-modifying-external-accounts.html: EnableKey and GetKeyPolicy are not cross-account
  operations; a key of another account is reached only if its key policy allows the caller.
- API_AssumeRole.html: role session ARNs are arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION.
"""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest

from workshop.conftest import Shell, block, ok_json, pasted_settings

pytestmark = pytest.mark.slow

INVESTIGATE = "Investigate (read-only): account app"
FIX = "Change the setup (fix): account app"


def start(shell: Shell, who: str, exercise: str) -> tuple[str, dict[str, str], dict[str, str]]:
    proc = shell.kmslab("start", exercise, "--endpoint-url", shell.endpoint, participant=who)
    assert proc.returncode == 0, proc.stderr
    blocks = pasted_settings(proc.stdout)
    return proc.stdout, block(blocks, INVESTIGATE), block(blocks, FIX)


def test_scripted_participant_three_exercises(shell: Shell, tmp_path: Path) -> None:
    who = "carol"

    # 1. Fixed correctly: the key was disabled; EnableKey as the fixer.
    out, investigate, fix = start(shell, who, "ws-key-disabled")
    assert "clean-up script ran overnight" in out  # the story
    assert "aws kms decrypt --key-id alias/billing-data" in out  # the application's call
    assert "An error occurred (DisabledException) when calling the Decrypt operation:" in out
    assert investigate["AWS_ENDPOINT_URL"] == shell.endpoint
    # Lab-issued temporary credentials, not operator ones (whose key id is an account id).
    assert not investigate["AWS_ACCESS_KEY_ID"].isdigit() and investigate["AWS_SESSION_TOKEN"]
    me = ok_json(shell.aws(investigate, "sts", "get-caller-identity"))
    assert me["Arn"].startswith(
        f"arn:aws:sts::{me['Account']}:assumed-role/kmslab-workshop-investigator/"
    )
    key = ok_json(shell.aws(investigate, "kms", "describe-key", "--key-id", "alias/billing-data"))
    assert key["KeyMetadata"]["KeyState"] == "Disabled"
    key_arn = key["KeyMetadata"]["Arn"]
    denied = shell.aws(investigate, "kms", "enable-key", "--key-id", key_arn)
    assert denied.returncode != 0 and "AccessDeniedException" in denied.stderr
    ok_json(shell.aws(fix, "kms", "enable-key", "--key-id", key_arn))
    checked = shell.kmslab("check", participant=who)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("PASSED")

    # 2. Fixed with an over-broad change: Principal "*" in the key policy.
    out, investigate, fix = start(shell, who, "ws-role-not-listed")
    assert "because no resource-based policy allows the kms:Decrypt action" in out
    key_arn = (
        json.loads(
            shell.kmslab("start", "ws-role-not-listed", "--format", "json", participant=who).stdout
        )["failing_call"]["message"]
        .rsplit(" on resource: ", 1)[1]
        .split(" ")[0]
    )
    policy_text = ok_json(
        shell.aws(
            investigate, "kms", "get-key-policy", "--key-id", key_arn, "--policy-name", "default"
        )
    )["Policy"]
    policy = json.loads(policy_text)
    policy["Statement"].append(
        {
            "Sid": "LetItWork",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    doc = tmp_path / "open-policy.json"
    doc.write_text(json.dumps(policy))
    ok_json(
        shell.aws(
            fix,
            "kms",
            "put-key-policy",
            "--key-id",
            key_arn,
            "--policy-name",
            "default",
            "--policy",
            f"file://{doc}",
        )
    )
    checked = shell.kmslab("check", participant=who)
    assert checked.returncode == 1, checked.stderr  # rejected: a script sees a failure
    assert checked.stdout.startswith("REJECTED")
    assert "[KEY_POLICY_OPEN_TO_EVERYONE]" in checked.stdout
    assert "statement 'LetItWork'" in checked.stdout

    # 3. Hints, then the solution, applied with the AWS CLI (IAM this time).
    out, investigate, fix = start(shell, who, "ws-iam-no-allow")
    assert "because no identity-based policy allows the kms:Decrypt action" in out
    first = shell.kmslab("hint", participant=who)
    second = shell.kmslab("hint", participant=who)
    assert first.stdout.startswith("Hint 1/2: The key policy has the account's root statement")
    assert second.stdout.startswith("Hint 2/2: List the role's inline policies")
    assert "last one" in second.stdout
    shown = shell.kmslab("solution", participant=who)
    assert shown.stdout.startswith("Fix: Allow kms:Decrypt on the key ARN in the role's policy.")
    assert "IAM_NO_ALLOW" in shown.stdout
    solution = ok_json(shell.kmslab("solution", "--format", "json", participant=who))
    new_policy = solution["changes"]["principals"]["app"]["policies"][0]
    assert new_policy["Statement"][0]["Resource"].startswith("arn:aws:kms:us-east-1:")
    roles = ok_json(shell.aws(investigate, "iam", "list-role-policies", "--role-name", "app"))
    assert roles["PolicyNames"], "the role's broken inline policy should be visible"
    doc = tmp_path / "role-policy.json"
    doc.write_text(json.dumps(new_policy))
    ok_json(
        shell.aws(
            fix,
            "iam",
            "put-role-policy",
            "--role-name",
            "app",
            "--policy-name",
            roles["PolicyNames"][0],
            "--policy-document",
            f"file://{doc}",
        )
    )
    checked = shell.kmslab("check", participant=who)
    assert checked.stdout.startswith("PASSED"), checked.stdout + checked.stderr

    # The facilitator sees all three.
    rows = {r["exercise"]: r for r in ok_json(shell.kmslab("status", "--format", "json"))}
    assert set(rows) == {"ws-key-disabled", "ws-role-not-listed", "ws-iam-no-allow"}
    assert all(r["participant"] == who for r in rows.values())
    assert (rows["ws-key-disabled"]["result"], rows["ws-key-disabled"]["hints_used"]) == (
        "passed",
        0,
    )
    assert rows["ws-role-not-listed"]["result"] == "rejected"
    assert rows["ws-role-not-listed"]["reasons"] == ["KEY_POLICY_OPEN_TO_EVERYONE"]
    iam_row = rows["ws-iam-no-allow"]
    assert (iam_row["result"], iam_row["hints_used"], iam_row["hints_total"]) == ("passed", 2, 2)
    assert iam_row["solution_shown"] is True and iam_row["current"] is True
    table = shell.kmslab("status").stdout
    for exercise in rows:
        assert exercise in table
    assert "rejected (KEY_POLICY_OPEN_TO_EVERYONE)" in table


def test_two_participants_on_the_same_exercise_are_isolated(shell: Shell) -> None:
    outputs: dict[str, subprocess.CompletedProcess[str]] = {}

    def run(who: str) -> None:
        outputs[who] = shell.kmslab(
            "start", "ws-key-disabled", "--endpoint-url", shell.endpoint, participant=who
        )

    threads = [threading.Thread(target=run, args=(who,)) for who in ("dave", "erin")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    settings = {}
    for who, proc in outputs.items():
        assert proc.returncode == 0, proc.stderr
        blocks = pasted_settings(proc.stdout)
        settings[who] = (block(blocks, INVESTIGATE), block(blocks, FIX))

    def key_of(who: str) -> dict[str, str]:
        found = ok_json(
            shell.aws(settings[who][0], "kms", "describe-key", "--key-id", "alias/billing-data")
        )
        meta: dict[str, str] = found["KeyMetadata"]
        return meta

    dave_key, erin_key = key_of("dave"), key_of("erin")
    # Same alias name, different keys in different accounts.
    assert dave_key["AWSAccountId"] != erin_key["AWSAccountId"]
    assert dave_key["Arn"] != erin_key["Arn"]

    # Dave can neither read nor change Erin's key, as investigator or as fixer.
    peek = shell.aws(
        settings["dave"][0],
        "kms",
        "get-key-policy",
        "--key-id",
        erin_key["Arn"],
        "--policy-name",
        "default",
    )
    assert peek.returncode != 0
    assert "AccessDeniedException" in peek.stderr or "NotFoundException" in peek.stderr, peek.stderr
    meddle = shell.aws(settings["dave"][1], "kms", "enable-key", "--key-id", erin_key["Arn"])
    assert meddle.returncode != 0
    assert "AccessDeniedException" in meddle.stderr or "NotFoundException" in meddle.stderr
    assert key_of("erin")["KeyState"] == "Disabled"

    # Dave fixes his own; Erin's exercise is untouched.
    ok_json(shell.aws(settings["dave"][1], "kms", "enable-key", "--key-id", dave_key["Arn"]))
    dave = shell.kmslab("check", "--format", "json", participant="dave")
    assert dave.returncode == 0 and json.loads(dave.stdout)["result"] == "passed", dave.stdout
    erin = shell.kmslab("check", participant="erin")
    assert erin.returncode == 1 and erin.stdout.startswith("NOT YET"), erin.stdout
    assert "DisabledException" in erin.stdout
    assert key_of("erin")["KeyState"] == "Disabled"

    rows = {r["participant"]: r for r in ok_json(shell.kmslab("status", "--format", "json"))}
    assert rows["dave"]["result"] == "passed" and rows["erin"]["result"] == "failed"
    assert set(rows["dave"]["accounts"].values()).isdisjoint(rows["erin"]["accounts"].values())
