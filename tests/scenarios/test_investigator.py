"""A setup's `investigator` section: evidence is read with that role's lab-issued credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.errors import UsageError
from harness.scenarios.catalog import find, load_file
from harness.scenarios.model import merge_patch
from harness.scenarios.runner import Runner

GOOD = {
    "id": "tiny",
    "title": "A tiny scenario",
    "runbook_step": 2,
    "story": "The app cannot decrypt since this morning.",
    "sources": ["https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html"],
    "setup": {"keys": {"data": {}}, "principals": {"app": {"type": "role"}}},
    "call": {"principal": "app", "operation": "Encrypt", "key": "${key.data.arn}"},
    "expected": {
        "error": {"code": "AccessDeniedException", "message": ".*"},
        "finding": "IAM_NO_ALLOW",
    },
    "fix": {"summary": "allow"},
}


def test_investigator_is_built_as_a_role(tmp_path: Path) -> None:
    data = merge_patch(GOOD, {"setup": {"investigator": {"policies": []}}})
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    scenario = load_file(path)
    assert scenario.investigator == "investigator"
    role = scenario.setup["principals"]["investigator"]
    assert (role["type"], role["account"], role["name"]) == ("role", "app", "kmslab-investigator")


def test_investigator_name_cannot_be_taken(tmp_path: Path) -> None:
    data = merge_patch(
        GOOD,
        {"setup": {"investigator": {}, "principals": {"investigator": {"type": "role"}}}},
    )
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(UsageError, match=r"\$\.setup\.principals\.investigator: the name is taken"):
        load_file(path)


def test_evidence_is_read_as_the_investigator(lab_runner: Runner) -> None:
    scenario = find("investigator-no-key-policy-read")
    provisioner, resolved = lab_runner.provision(scenario)
    attempt = lab_runner.attempt(provisioner, scenario, resolved)
    calls = attempt.bundle["calls"]
    whoami = next(c for c in calls if c["operation"] == "GetCallerIdentity")
    assert ":assumed-role/kmslab-investigator/" in whoami["response"]["Arn"]
    # API_GetKeyPolicy.html: GetKeyPolicy needs kms:GetKeyPolicy, which the role lacks
    policy = next(c for c in calls if c["operation"] == "GetKeyPolicy")
    assert policy["error"]["code"] == "AccessDeniedException"
    assert {"call": "kms:GetKeyPolicy", "error": "AccessDeniedException"} in attempt.diagnosis[
        "unreadable"
    ]
    # the investigation starts without the application's error (sees_error: false)
    assert "observed_error" not in attempt.bundle["request"]
    # a role the key policy delegates to IAM for reads DescribeKey with its own policy
    describe = next(c for c in calls if c["operation"] == "DescribeKey")
    assert "response" in describe


def test_a_rebuilt_investigator_is_refused_what_each_service_refused_in_the_bundle() -> None:
    # Each service refuses in its own shape: KMS AccessDeniedException, IAM AccessDenied,
    # EC2 UnauthorizedOperation (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html);
    # throttling is no refusal (https://docs.aws.amazon.com/kms/latest/developerguide/throttling.html).
    from harness.scenarios.rebuild.environment import investigator_spec
    from harness.scenarios.rebuild.evidence import Evidence

    def refused(service: str, operation: str, code: str) -> dict[str, object]:
        return {"service": service, "operation": operation, "error": {"code": code, "message": ""}}

    bundle = {
        "request": {"principal": "arn:aws:iam::111122223333:role/app", "action": "kms:Decrypt"},
        "calls": [
            refused("kms", "GetKeyPolicy", "AccessDeniedException"),
            refused("iam", "GetRole", "AccessDenied"),
            refused("ec2", "DescribeVpcEndpoints", "UnauthorizedOperation"),
            refused("kms", "ListGrants", "ThrottlingException"),
        ],
    }
    statements = investigator_spec(Evidence(bundle))["policies"][0]["Statement"]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Action"] == ["ec2:DescribeVpcEndpoints", "iam:GetRole", "kms:GetKeyPolicy"]
