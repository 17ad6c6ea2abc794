"""Parity of the two provisioning paths (issue 7): Terraform, the reference, and native boto3.

A sample of catalog scenarios of different shapes is applied with ONE Terraform apply, its
failing calls investigated; then the lab is reset, the same data built natively under the
same name prefixes, and the calls investigated again. The evidence each investigation
collected must be the same once what differs by construction is normalised: ids the lab
generates (key, grant, role and policy ids), dates, and CloudTrail, which records the
provisioning calls themselves. Both must yield the same primary finding.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.scenarios.catalog import find
from harness.scenarios.native import NativeProvisioner
from harness.scenarios.refs import ResolvedRefs
from harness.scenarios.results import Attempt
from harness.scenarios.runner import Runner
from harness.scenarios.terraform import TerraformProvisioner, TerraformRun

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

SAMPLE = [
    "principal-role-not-listed",  # key policy naming other roles, identity policy
    "grant-operation-missing",  # a grant
    "boundary-blocks-named-role",  # a permissions boundary (managed policy and version)
    "cross-account-key-policy-missing",  # key in a second account
]

# CloudTrail and its log delivery record how each path built the lab (Terraform reads every
# resource back, boto3 does not): they differ by construction.
BY_CONSTRUCTION = {("cloudtrail", "LookupEvents"), ("logs", "FilterLogEvents")}
# Lists whose order carries no meaning: a grant's operations are a set (API_CreateGrant.html),
# and the Terraform provider holds them as one.
UNORDERED = {"Operations"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2}|Z)?$")
# IAM unique ids (AROA..., AIDA..., ANPA... and the lab's policy ids) and leftover UUIDs.
IAM_ID = re.compile(r"\bA[A-Z0-9]{3}[A-Z0-9]{13,}\b")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
# The lab organization is created afresh after each reset: its id and its root's id
# (API_Organization.html: o-[a-z0-9]{10,32}; API_Root.html: r-[0-9a-z]{4,32}).
ORG_IDS = re.compile(r"\bo-[a-z0-9]{10,32}\b|\br-[0-9a-z]{4,32}\b")


def placeholders(resolved: ResolvedRefs) -> dict[str, str]:
    """The lab-generated ids of one build, each mapped to a name both builds share."""
    out: dict[str, str] = {}
    for name, key in resolved.key.items():
        out[key["id"]] = f"<key:{name}>"
    for name, grant in resolved.grant.items():
        out[grant["id"]] = f"<grant:{name}>"
    for name, principal in resolved.principal.items():
        out[principal["unique_id"]] = f"<principal-id:{name}>"
    return out


def normalise(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: normalise(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, ids) for v in value]
    if not isinstance(value, str):
        return value
    if value.startswith("{") and value.endswith("}"):
        try:  # a policy as a JSON string (GetKeyPolicy): compare documents, not spacing
            return normalise(json.loads(value), ids)
        except ValueError:
            pass
    if DATE.match(value):
        return "<date>"
    for generated, name in ids.items():
        value = value.replace(generated, name)
    value = ORG_IDS.sub("<org-id>", value)
    return UUID.sub("<uuid>", IAM_ID.sub("<iam-id>", value))


def sort_unordered(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: sorted(v) if k in UNORDERED and isinstance(v, list) else sort_unordered(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [sort_unordered(v) for v in value]
    return value


def comparable(attempt: Attempt, resolved: ResolvedRefs) -> dict[str, Any]:
    """The bundle's request and calls, normalised, calls in a stable order (collectors run
    concurrently, so the recorded order is not meaningful)."""
    ids = placeholders(resolved)
    bundle = attempt.bundle
    calls = [
        sort_unordered(normalise(call, ids))
        for call in bundle["calls"]
        if (call["service"], call["operation"]) not in BY_CONSTRUCTION
    ]
    calls.sort(key=lambda c: json.dumps(c, sort_keys=True))
    return {"request": normalise(bundle["request"], ids), "calls": calls}


def diff(reference: dict[str, Any], native: dict[str, Any]) -> str:
    def lines(value: dict[str, Any]) -> list[str]:
        return json.dumps(value, indent=1, sort_keys=True).splitlines()

    return "\n".join(
        difflib.unified_diff(
            lines(reference), lines(native), "terraform", "native", lineterm="", n=4
        )
    )


@pytest.fixture(scope="module")
def both_ways(
    lab_runner: Runner, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, tuple[Attempt, ResolvedRefs]]]:
    """scenario id -> {"terraform": (attempt, resolved), "native": (attempt, resolved)}."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    scenarios = [find(i) for i in SAMPLE]
    runner = lab_runner
    workdir: Path = tmp_path_factory.mktemp("parity-tf")
    terraform = TerraformProvisioner(
        runner.endpoint, runner.targets, TerraformRun(runner.endpoint, workdir=workdir)
    )
    terraform.on_controls = runner.set_controls
    runner.reset()
    built = terraform.provision(scenarios)
    out: dict[str, dict[str, tuple[Attempt, ResolvedRefs]]] = {}
    for scenario in scenarios:
        provisioner, resolved = built[scenario.id]
        out[scenario.id] = {
            "terraform": (runner.attempt(provisioner, scenario, resolved), resolved)
        }
    # One embedded moto per process (harness.lab): the native build follows a reset of the
    # same lab, under the prefixes Terraform used, so names match and ids do not.
    runner.reset()
    prefixes = terraform.prefixes(scenarios)
    for scenario in scenarios:
        native = NativeProvisioner(runner.targets, prefix=prefixes[scenario.id][1])
        native.on_controls = runner.set_controls
        resolved = native.provision(scenario.setup)
        out[scenario.id]["native"] = (runner.attempt(native, scenario, resolved), resolved)
    return out


@pytest.mark.parametrize("scenario_id", SAMPLE)
def test_same_evidence_both_ways(
    both_ways: dict[str, dict[str, tuple[Attempt, ResolvedRefs]]], scenario_id: str
) -> None:
    reference = comparable(*both_ways[scenario_id]["terraform"])
    native = comparable(*both_ways[scenario_id]["native"])
    assert reference == native, f"evidence differs:\n{diff(reference, native)}"


@pytest.mark.parametrize("scenario_id", SAMPLE)
def test_same_findings_both_ways(
    both_ways: dict[str, dict[str, tuple[Attempt, ResolvedRefs]]], scenario_id: str
) -> None:
    reference = both_ways[scenario_id]["terraform"][0]
    native = both_ways[scenario_id]["native"][0]
    # Each is also the one the scenario file expects (its AWS sources name the failure).
    assert reference.primary == native.primary == find(scenario_id).expected_finding
    codes = [[f["code"] for f in a.diagnosis["findings"]] for a in (reference, native)]
    assert codes[0] == codes[1], f"findings differ: terraform {codes[0]}, native {codes[1]}"


def test_the_sample_reads_every_shape(
    both_ways: dict[str, dict[str, tuple[Attempt, ResolvedRefs]]],
) -> None:
    """The comparison covers grants, boundaries and the key account's reads, not empty lists."""
    seen: set[str] = set()
    for runs in both_ways.values():
        attempt = runs["terraform"][0]
        for call in attempt.bundle["calls"]:
            response = call.get("response") or {}
            if call["operation"] == "ListGrants" and response.get("Grants"):
                seen.add("grant")
            if call["operation"] == "GetPolicyVersion":
                seen.add("boundary")
            if call["operation"] == "GetKeyPolicy" and call.get("account") != "111111111111":
                seen.add("other-account key policy")
            if call["operation"] == "GetRolePolicy":
                seen.add("inline policy")
    assert seen == {"grant", "boundary", "other-account key policy", "inline policy"}
