"""Bring your own diagnoser: kmslab hands each scenario's evidence bundle to an external command
and scores its answers per runbook step and finding code.

The known answers come from the scenario files (expected finding and runbook step), read
without kmslab; the bundles are the ones the lab recorded for each scenario's failing call
(tests/diagnosis/catalog)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.scenarios.scorecard import Case, Diagnoser, Scorecard, ask_all, load_code_map

from .catalog_records import record, recorded_ids, scenario
from .naive_diagnoser import answer as naive_answer

HERE = Path(__file__).resolve().parent
# -I -S: the naive diagnoser needs only the standard library; skipping site-packages' start-up
# (editable installs, .pth files) makes each of its ~65 answers several times faster.
NAIVE = f"{sys.executable} -I -S {HERE / 'naive_diagnoser.py'} {{bundle}}"


def case(sid: str) -> Case:
    data = scenario(sid)
    return Case(sid, data["expected"]["finding"], str(data["runbook_step"]), record(sid)["bundle"])


def known_naive_answer(sid: str) -> str:
    """What the naive diagnoser must answer, from the scenario file alone: the error the
    caller sees, unless the investigator was not told it (setup.investigator.sees_error)."""
    data = scenario(sid)
    seen = (data["setup"].get("investigator") or {}).get("sees_error", True)
    error = data["expected"]["error"]
    return naive_answer(error["code"] if error and seen else None)


def test_a_naive_diagnoser_scores_what_the_known_answers_say() -> None:
    ids = recorded_ids()
    card = Scorecard(ask_all([case(s) for s in ids], Diagnoser.parse(NAIVE)))
    result = card.to_dict()
    right = {s for s in ids if known_naive_answer(s) == scenario(s)["expected"]["finding"]}
    assert result["total"] == len(ids)
    assert result["correct"] == len(right)
    # The naive guess cannot tell apart the many causes of AccessDeniedException.
    assert 0 < len(right) < len(ids) / 2
    steps = Counter(str(scenario(s)["runbook_step"]) for s in ids)
    steps_right = Counter(str(scenario(s)["runbook_step"]) for s in right)
    assert {k: v["total"] for k, v in result["by_runbook_step"].items()} == dict(steps)
    assert {k: v["correct"] for k, v in result["by_runbook_step"].items()} == {
        k: steps_right.get(k, 0) for k in steps
    }
    codes = Counter(scenario(s)["expected"]["finding"] for s in ids)
    assert {k: v["total"] for k, v in result["by_finding"].items()} == dict(codes)
    missed = {m["id"] for t in result["by_finding"].values() for m in t["misses"]}
    assert missed == set(ids) - right
    for item in result["answers"]:
        known = known_naive_answer(item["id"])
        if known == "UNKNOWN_ERROR":  # its answer for other errors is no finding code: a miss
            assert item["answer"] is None and "not a finding code" in item["reason"]
        else:
            assert item["answer"] == known
    text = card.render_text()
    assert f"score: {len(right)}/{len(ids)}" in text
    assert "iam-no-allow: answered KEY_POLICY_NO_ALLOW, expected IAM_NO_ALLOW" in text


# One scenario per runbook step and finding family keeps the CLI-as-diagnoser test short (each
# answer is a Python start-up); the in-process diagnosis of every bundle is test_catalog_e2e's.
SAMPLE = [
    "kms-service-event",
    "key-disabled",
    "principal-role-not-listed",
    "condition-encryption-context",
    "iam-no-allow",
    "alias-wrong-target",
    "grant-operation-missing",
    "vpce-policy-no-allow",
    "wrong-region",
    "control-same-account-role",
]


def test_kmslabs_own_cli_as_the_diagnoser_gets_full_marks() -> None:
    command = f"{sys.executable} -m harness diagnose --bundle {{bundle}} --format json"
    card = Scorecard(ask_all([case(s) for s in SAMPLE], Diagnoser.parse(command, timeout=120)))
    result = card.to_dict()
    assert result["correct"] == result["total"] == len(SAMPLE), card.render_text()
    assert result["score"] == 1.0
    assert all(not t["misses"] for t in result["by_runbook_step"].values())


def test_own_codes_are_mapped_by_the_map_file(tmp_path: Path) -> None:
    script = tmp_path / "bot.py"
    script.write_text("print('disabled-key')\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("disabled-key: KEY_DISABLED\n")
    diagnoser = Diagnoser.parse(f"{sys.executable} {script} {{bundle}}", load_code_map(mapping))
    card = Scorecard(ask_all([case("key-disabled"), case("iam-no-allow")], diagnoser))
    result = card.to_dict()
    assert result["correct"] == 1
    assert result["by_finding"]["IAM_NO_ALLOW"]["misses"] == [
        {
            "id": "iam-no-allow",
            "answer": "KEY_DISABLED",
            "reason": "answered KEY_DISABLED, expected IAM_NO_ALLOW",
        }
    ]


@pytest.mark.parametrize(
    "body, reason",
    [
        ("import sys; sys.stderr.write('boom\\n'); sys.exit(3)", "exited with status 3: boom"),
        ("raise RuntimeError('kaput')", "exited with status 1: RuntimeError: kaput"),
        ("import time; time.sleep(60)", "no answer within 8 s"),
        ("print('%%% not a code')", "not a finding code"),
        ("print('KEY_DISABLD')", "answered KEY_DISABLD, not a finding code kmslab knows"),
        ("print('{\"primary\": 3}')", "JSON without a string `primary`"),
        ("print('{broken')", "malformed JSON"),
        ("pass", "no answer on stdout"),
    ],
)
def test_a_crash_a_hang_or_garbage_is_a_miss_with_its_reason(
    body: str, reason: str, tmp_path: Path
) -> None:
    script = tmp_path / "bad.py"
    script.write_text(body + "\n")
    # Wide enough that a loaded CI machine starts Python well inside it: only the hang times out.
    diagnoser = Diagnoser.parse(f"{sys.executable} {script} {{bundle}}", timeout=8)
    (answer,) = ask_all([case("key-disabled")], diagnoser)
    assert not answer.correct and answer.answer is None
    assert reason in answer.why()


def test_json_answers_use_primary_and_null_means_healthy(tmp_path: Path) -> None:
    script = tmp_path / "j.py"
    script.write_text('print(\'{"primary": null, "findings": []}\')\n')
    diagnoser = Diagnoser.parse(f"{sys.executable} {script}")  # no {bundle}: path appended
    answers = ask_all([case("control-same-account-role"), case("key-disabled")], diagnoser)
    assert [a.correct for a in answers] == [True, False]


def test_the_bundle_path_is_an_argument_never_shell_text(tmp_path: Path) -> None:
    script = tmp_path / "argv.py"
    script.write_text(
        "import sys, json\n"
        "assert len(sys.argv) == 3 and sys.argv[1] == 'a b;c'\n"
        "print(json.load(open(sys.argv[2]))['request']['observed_error']['code'] == "
        "'DisabledException' and 'KEY_DISABLED')\n"
    )
    diagnoser = Diagnoser.parse(f"{sys.executable} {script} 'a b;c' {{bundle}}")
    (answer,) = ask_all([case("key-disabled")], diagnoser)
    assert answer.correct, answer.why()


@pytest.mark.parametrize(
    "command, message",
    [
        ("", "empty command"),
        ("no-such-diagnoser-xyz {bundle}", "command not found: no-such-diagnoser-xyz"),
        ("python 'unbalanced", "cannot split"),
    ],
)
def test_a_command_that_cannot_run_at_all_is_bad_input(command: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Diagnoser.parse(command)


def test_a_map_to_an_unknown_code_is_bad_input(tmp_path: Path) -> None:
    mapping = tmp_path / "map.yaml"
    mapping.write_text("x: NOT_A_CODE\n")
    with pytest.raises(UsageError, match="maps to NOT_A_CODE"):
        load_code_map(mapping)
    mapping.write_text("x: [unclosed\n")
    with pytest.raises(UsageError, match="line 2"):
        load_code_map(mapping)


def test_json_scorecard_shape() -> None:
    card = Scorecard(ask_all([case("key-disabled")], Diagnoser.parse(NAIVE)))
    doc = json.loads(json.dumps(card.to_dict()))
    assert doc["by_runbook_step"]["2"] == {"total": 1, "correct": 1, "score": 1.0, "misses": []}
    assert doc["answers"][0] == {
        "id": "key-disabled",
        "runbook_step": "2",
        "expected": "KEY_DISABLED",
        "answer": "KEY_DISABLED",
        "correct": True,
    }
