"""`kmslab run` reads evidence as lab-issued investigator roles, from a wire-only request.

- The roles hold exactly the policy `kmslab collect --print-iam-policy` prints, in the caller's
  account and, for a key in another account, in the key's account.
- A scenario may declare `key_admin_reads` only where AWS itself would refuse the key's side to
  such a role: "Unless the key policy explicitly allows it, you cannot use IAM policies to allow
  access to a KMS key" (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html),
  and the "Enable IAM policies" statement is what lets IAM policies count
  (key-policy-default.html#key-policy-default-allow-root-enable-iam).
- The investigation request comes from what the call sent and what AWS answered. A symmetric
  Decrypt need not send a KeyId: "AWS KMS can get the KMS key from metadata that it adds to the
  symmetric ciphertext blob" (https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html);
  IAM's AccessDenied message names the resource when there is one
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html), and the
  call's CloudTrail record lists the key under `resources`
  (https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html).
"""

from __future__ import annotations

import json
from pathlib import Path

import botocore.exceptions
import pytest
import yaml
from click.testing import CliRunner

from harness.cli import cli
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


DECLARED = [s.id for s in load_catalog() if s.key_admin_reads]


def test_some_scenarios_declare_key_admin_reads() -> None:
    # The declaration is the exception, and visible: most of the catalog reads as investigators.
    assert 0 < len(DECLARED) < len(load_catalog()) // 2


@pytest.mark.parametrize("scenario_id", DECLARED)
def test_key_admin_reads_only_where_aws_refuses_the_investigator(
    lab_runner: Runner, scenario_id: str
) -> None:
    scenario = find(scenario_id)
    provisioner, resolved = lab_runner.provision(scenario)
    key = next(iter(resolved.key.values()))
    account = key["arn"].split(":")[4]
    target = lab_runner.investigators.target(provisioner, account, "us-east-1")
    kms = target.client("kms", "us-east-1")
    regions = ["us-east-1", *scenario.setup["keys"][next(iter(resolved.key))].get("replicas", {})]
    refused = []
    for region in regions:
        arn = key["arn"].replace(":us-east-1:", f":{region}:")
        try:
            target.client("kms", region).get_key_policy(KeyId=arn, PolicyName="default")
        except botocore.exceptions.ClientError as exc:
            refused.append(exc.response["Error"]["Code"])
    assert "AccessDeniedException" in refused, (scenario_id, refused)
    del kms


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
