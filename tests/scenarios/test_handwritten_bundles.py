"""Bundles written by hand the way a customer's investigator would produce them (AWS CLI
output pasted into the bundle format of contract section 3), never collected by kmslab:
partial ones (calls missing or refused), redacted ones, multi-account ones, one with no
observed error. Each imports, rebuilds and reproduces the error and root cause written in its
sidecar (`NAME.expected.json`: error, finding, the AWS page they come from, and why).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from harness.scenarios.from_bundle import scenario_from_bundle
from harness.scenarios.model import Scenario
from harness.scenarios.results import BuildError, error_matches
from harness.scenarios.runner import Runner

HERE = Path(__file__).resolve().parent / "bundles"
NAMES = sorted(p.name.removesuffix(".expected.json") for p in HERE.glob("*.expected.json"))


# Bundles whose diagnosis's fix is not a change the rebuilt setup can take, and why (the scenario
# lists it under not_rebuilt): an organization policy the member account's bundle never read,
# a key policy edit the person makes on a document the bundle does not hold.
FIX_NOT_DERIVED = {
    "rcp-ou-denies-outside-org": "aws organizations list-parents",
    "scp-deny-member-account-partial": "aws organizations list-parents",
    "s3-via-service-direct-call": "aws kms get-key-policy",
}


def load(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    bundle = json.loads((HERE / f"{name}.json").read_text())
    expected = json.loads((HERE / f"{name}.expected.json").read_text())
    return bundle, expected


def test_at_least_fifteen_hand_written_bundles_of_every_kind() -> None:
    assert len(NAMES) >= 15
    bundles = [load(n)[0] for n in NAMES]
    assert sum(1 for b in bundles if b.get("redacted")) >= 2
    assert sum(1 for b in bundles if any("error" in c for c in b["calls"])) >= 2  # refused
    accounts = [
        {c.get("account") for c in b["calls"]}
        | {b["request"]["principal"].split(":")[4], b["request"].get("key_account")}
        for b in bundles
    ]
    assert sum(1 for a in accounts if len(a - {None}) >= 2) >= 3  # multi-account
    assert any("observed_error" not in b["request"] for b in bundles)
    for name in NAMES:
        assert load(name)[1]["source"].startswith("https://docs.aws.amazon.com/")


@pytest.mark.parametrize("name", NAMES)
def test_hand_written_bundle_rebuilds_and_reproduces(lab_runner: Runner, name: str) -> None:
    bundle, expected = load(name)
    imported = Scenario(scenario_from_bundle(bundle, scenario_id=f"hand-{name[:36]}"))
    assert imported.expected_finding == expected["finding"]
    assert (imported.expected_error or {}).get("code") == expected["error"]
    provisioner, resolved = lab_runner.provision(imported)
    attempt = lab_runner.attempt(provisioner, imported, resolved)
    assert attempt.outcome.code == expected["error"]
    assert attempt.primary == expected["finding"]
    assert error_matches(imported, attempt.outcome, resolved) == []
    # The rebuilt incident carries the diagnosis's fix (or says why not): applied as
    # `kmslab run` applies it, the same call then works and the diagnosis is healthy.
    gaps = [g["reason"] for g in imported.not_rebuilt if g["what"] == "fix"]
    if name in FIX_NOT_DERIVED:
        assert gaps and FIX_NOT_DERIVED[name] in gaps[0], imported.not_rebuilt
        assert not (set(imported.fix) - {"summary"})
        return
    assert not gaps and set(imported.fix) & {"setup", "call"}, imported.fix
    started = time.time()
    fixed = lab_runner.apply_fix(imported, provisioner, resolved)
    after = lab_runner.attempt_after_fix(provisioner, fixed, resolved, started)
    assert after.outcome.ok, (imported.fix, after.outcome.code, after.outcome.message)
    assert after.healthy, after.primary


def test_a_bundle_without_observed_error_is_no_healthy_control() -> None:
    bundle, expected = load("console-policy-third-role-no-error")
    scenario = scenario_from_bundle(bundle)
    assert not scenario.get("control")
    assert scenario["expected"]["finding"] == expected["finding"] == "KEY_POLICY_NO_ALLOW"
    assert "from the bundle's diagnosis" in scenario["story"]


def test_every_principal_a_policy_names_is_rebuilt() -> None:
    bundle, _ = load("console-policy-third-role-no-error")
    scenario = scenario_from_bundle(bundle)
    names = {p["name"] for p in scenario["setup"]["principals"].values()}
    assert {"KeyAdmin", "billing-api", "billing-worker", "billing-reports"} <= names
    policy = json.dumps(scenario["setup"]["keys"]["data"]["policy"])
    assert "arn:aws:iam::111122223333:role/" not in policy  # references, not literals


def test_an_orphaned_unique_id_is_rebuilt_as_an_orphan_and_listed() -> None:
    bundle, _ = load("redacted-orphaned-unique-id")
    scenario = scenario_from_bundle(bundle)
    orphans = [p for p in scenario["setup"]["principals"].values() if p.get("recreated")]
    assert len(orphans) == 1
    assert any("AROAKMSLABREDACTEDAAAAAB" in item["what"] for item in scenario["not_rebuilt"])


def test_refused_reads_are_listed_not_dropped() -> None:
    bundle, _ = load("scp-deny-member-account-partial")
    scenario = scenario_from_bundle(bundle)
    gaps = " ".join(item["what"] + item["reason"] for item in scenario["not_rebuilt"])
    assert "SCP" in gaps and "stand-in" in gaps
    assert scenario["setup"]["organization"]["scps"][0]["target"] == "app"


def test_a_rebuild_the_lab_refuses_leaves_nothing_and_names_the_call(lab_runner: Runner) -> None:
    bundle, _ = load("console-policy-iam-other-key")
    doc = json.loads(bundle["calls"][2]["response"]["Policy"])
    # A wildcard in a Principal's ARN: AWS rejects it (reference_policies_elements_principal.html).
    doc["Statement"][1]["Principal"]["AWS"] = "arn:aws:iam::111122223333:role/billing-*"
    bundle["calls"][2]["response"]["Policy"] = json.dumps(doc)
    scenario = Scenario(scenario_from_bundle(bundle, scenario_id="hand-refused"))
    with pytest.raises(BuildError, match=r"CreateKey failed: MalformedPolicyDocumentException"):
        lab_runner.provision(scenario)
    iam = boto3.client(
        "iam",
        endpoint_url=lab_runner.endpoint,
        region_name="us-east-1",
        aws_access_key_id="111122223333",
        aws_secret_access_key="kmslab",
    )
    kms = boto3.client(
        "kms",
        endpoint_url=lab_runner.endpoint,
        region_name="us-east-1",
        aws_access_key_id="111122223333",
        aws_secret_access_key="kmslab",
    )
    assert iam.list_roles()["Roles"] == []
    assert kms.list_keys()["Keys"] == []


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "kmslab"), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_from_bundle_writes_the_scenario_and_lists_what_it_lacks(tmp_path: Path) -> None:
    out = tmp_path / "incident.yaml"
    done = run_cli(
        "scenarios",
        "from-bundle",
        str(HERE / "scp-deny-member-account-partial.json"),
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "not_rebuilt:" in text and "&id" not in text
    assert "not rebuilt: " in done.stderr


def test_cli_from_bundle_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "kind": "kms-evidence-bundle",
                "version": 1,
                "request": {
                    "principal": "arn:aws:iam::111122223333:root",
                    "action": "kms:Decrypt",
                    "key": "k",
                },
                "calls": [],
            }
        )
    )
    out = tmp_path / "never.yaml"
    done = run_cli("scenarios", "from-bundle", str(bad), "--out", str(out))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not out.exists() and not list(tmp_path.glob("never*"))
