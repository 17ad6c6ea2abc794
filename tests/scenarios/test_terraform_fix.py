"""Which fixes Terraform can apply, decided before any Terraform runs (no terraform needed)."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.scenarios.catalog import find
from harness.scenarios.native import NativeProvisioner, lab_targets
from harness.scenarios.refs import ResolvedRefs
from harness.scenarios.terraform import TerraformProvisioner, fix_unsupported_reason

UNREACHABLE = "http://127.0.0.1:9"


def test_enabling_a_disabled_key_is_a_terraform_fix() -> None:
    # enabling-keys.html: enabling is a change of the key's enabled flag, which
    # aws_kms_key.is_enabled holds.
    assert fix_unsupported_reason(find("key-disabled")) is None


def test_a_key_pending_deletion_is_not() -> None:
    # deleting-keys.html: a key pending deletion must be cancelled first; the provider
    # reads such a key as deleted, so an apply would plan a new key.
    reason = fix_unsupported_reason(find("key-pending-deletion"))
    assert reason is not None and "PendingDeletion" in reason


def test_a_setup_terraform_cannot_build_cannot_be_fixed_by_it() -> None:
    reason = fix_unsupported_reason(find("principal-orphaned-unique-id"))
    assert reason is not None and "recreated" in reason


@pytest.mark.parametrize("scenario_id", ["key-pending-deletion", "key-disabled"])
def test_fix_refuses_with_one_line_before_running_terraform(scenario_id: str) -> None:
    """Unsupported, or not built by this provisioner: a usage error, no terraform process."""
    terraform = TerraformProvisioner(UNREACHABLE, lab_targets(UNREACHABLE))
    native = NativeProvisioner(lab_targets(UNREACHABLE))
    with pytest.raises(UsageError, match=scenario_id) as caught:
        terraform.fix(find(scenario_id), native, ResolvedRefs())
    assert "\n" not in str(caught.value)
