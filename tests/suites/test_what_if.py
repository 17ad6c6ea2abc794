"""What-if (`kmslab evaluate --bundle B --key-policy/--identity-policy/--grant`) on the catalog's
captured incidents: each scenario whose fix is a policy change, with that fix given as the
proposed policy, is decided Allowed; the captured policies alone stay denied (as the incident
was). Proposed policies are the scenario file's fix, its `${kind.name.attr}` references filled
with the names the bundle shows (the lab names roles and users after the scenario's names)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main

from .catalog_records import record, recorded_ids, scenario

REF = re.compile(r"\$\{([a-z_]+)\.([A-Za-z0-9_]+)(?:\.([a-z_]+))?\}")


def policy_fix(sid: str) -> str | None:
    """Which policy the scenario's fix changes, when it changes only policies of the call."""
    data = scenario(sid)
    fix = data.get("fix") or {}
    if "call" in fix:
        return None
    setup = fix.get("setup") or {}
    if set(setup) == {"keys"} and all(set(k) == {"policy"} for k in setup["keys"].values()):
        return "key-policy"
    caller = data["call"]["principal"]
    if set(setup) == {"principals"} and set(setup["principals"]) == {caller}:
        return "identity" if set(setup["principals"][caller]) == {"policies"} else None
    # A grant fix for the caller (not grant-limit-reached's retiring of stale grants).
    if set(setup) == {"grants"} and any(
        g["grantee"] == data["call"]["principal"] for g in setup["grants"]
    ):
        return "grant"
    return None


CASES = [sid for sid in recorded_ids() if policy_fix(sid)]


def names(sid: str) -> dict[str, str]:
    """`kind.name.attr` -> value, from the scenario's setup and the names in its bundle."""
    data, bundle = scenario(sid), record(sid)["bundle"]
    setup = data["setup"]
    accounts = {"app": "111111111111", **setup.get("accounts", {})}
    out = {f"account.{k}": v for k, v in accounts.items()}
    for name, p in setup.get("principals", {}).items():
        account = accounts[p.get("account", "app")]
        kind = "user" if p.get("type") == "user" else "role"
        out[f"principal.{name}.arn"] = f"arn:aws:iam::{account}:{kind}/{name}"
    key_arn = next(
        c["response"]["KeyMetadata"]["Arn"]
        for c in bundle["calls"]
        if c["operation"] == "DescribeKey" and "response" in c
    )
    call_key = next(iter(setup["keys"]))
    out[f"key.{call_key}.arn"] = key_arn
    out[f"key.{call_key}.id"] = key_arn.rsplit("/", 1)[1]
    return out


def fill(value: Any, table: dict[str, str]) -> Any:
    if isinstance(value, str):
        return REF.sub(lambda m: table[".".join(p for p in m.groups() if p)], value)
    if isinstance(value, list):
        return [fill(v, table) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, table) for k, v in value.items()}
    return value


def proposal_args(sid: str, tmp: Path) -> list[str]:
    data = scenario(sid)
    setup = fill(data["fix"]["setup"], names(sid))
    kind = policy_fix(sid)
    args: list[str] = []
    if kind == "key-policy":
        (policy,) = (k["policy"] for k in setup["keys"].values())
        (tmp / "key.json").write_text(json.dumps(policy))
        args += ["--key-policy", str(tmp / "key.json")]
    elif kind == "identity":
        for i, doc in enumerate(setup["principals"][data["call"]["principal"]]["policies"]):
            (tmp / f"id{i}.json").write_text(json.dumps(doc))
            args += ["--identity-policy", str(tmp / f"id{i}.json")]
    else:
        principals = names(sid)
        for grant in setup["grants"]:
            grantee = grant["grantee"]
            if not grantee.startswith("arn:"):
                grantee = principals[f"principal.{grantee}.arn"]
            doc = {"GranteePrincipal": grantee, "Operations": grant["operations"]}
            if grant.get("constraints"):
                doc["Constraints"] = grant["constraints"]
            args += ["--grant", json.dumps(doc)]
    return args


def evaluate(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict[str, Any]:
    code = main(["evaluate", *args, "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    result: dict[str, Any] = json.loads(out.out)
    return result


def test_the_policy_fixes_cover_every_policy_layer_the_options_take() -> None:
    kinds = {policy_fix(sid) for sid in CASES}
    assert kinds == {"key-policy", "identity", "grant"}
    assert len(CASES) >= 12


@pytest.mark.parametrize("sid", CASES)
def test_the_scenarios_fix_as_a_proposed_policy_allows_the_request(
    sid: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(record(sid)["bundle"]))
    result = evaluate(capsys, ["--bundle", str(bundle), *proposal_args(sid, tmp_path)])
    assert result["before"]["decision"] in ("ImplicitDeny", "ExplicitDeny")
    assert result["after"]["decision"] == "Allowed", result["after"]["blocked_by"]
    assert result["decision"] == "Allowed" and result["message"] == ""
    # Something the proposal touched is named as the change.
    layer = policy_fix(sid)
    assert any(c["layer"] == layer for c in result["changed"]), result["changed"]


def test_without_a_proposal_the_captured_decision_is_the_incident(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = record("principal-role-not-listed")
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps(rec["bundle"]))
    result = evaluate(capsys, ["--bundle", str(bundle)])
    assert result["before"] == result["after"]
    assert result["changed"] == []
    # AWS's message for this case (troubleshoot_access-denied.html): no resource-based policy.
    assert result["message"] == rec["bundle"]["request"]["observed_error"]["message"]


def test_text_output_names_the_statement_that_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sid = "principal-role-not-listed"
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps(record(sid)["bundle"]))
    assert main(["evaluate", "--bundle", str(bundle), *proposal_args(sid, tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "before: ImplicitDeny" in out and "after:  Allowed" in out
    assert "changed: [key-policy] key-policy statement 0 'Readers' (Allow) now matches" in out


def test_a_proposal_that_does_not_help_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps(record("principal-role-not-listed")["bundle"]))
    useless = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    (tmp_path / "k.json").write_text(json.dumps(useless))
    assert (
        main(["evaluate", "--bundle", str(bundle), "--key-policy", str(tmp_path / "k.json")]) == 0
    )
    assert "does not change the decision" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--bundle", "missing.json"], "file not found"),
        (["--request", "r.json", "--bundle", "b.json"], "exactly one of"),
        ([], "exactly one of"),
        (["--request", "r.json", "--key-policy", "k.json"], "need --bundle"),
        (["--bundle", "b.json", "--grant", "{not json"], "--grant: malformed JSON"),
        (["--bundle", "b.json", "--key-policy", "list.json"], "must be a JSON object"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.json").write_text(json.dumps(record("key-disabled")["bundle"]))
    (tmp_path / "r.json").write_text("{}")
    (tmp_path / "list.json").write_text("[]")
    assert main(["evaluate", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
