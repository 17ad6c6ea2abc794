"""Our KMS incidents, reproduced on kmslab's lab.

AWS's documented behaviour we rely on (docs.aws.amazon.com):
- key-policies.html: without a root statement, only principals the key policy names can use
  the key, whatever their IAM policies say.
- key-state.html: Decrypt with a disabled key fails with DisabledException.
"""

from __future__ import annotations

import pytest
from oncall import advice


@pytest.mark.kmslab_scenario("scenarios/reporting-role-missing.yaml")
def test_reporting_role_missing_from_key_policy(kmslab_scenario):
    failed = kmslab_scenario.call()
    assert failed.code == "AccessDeniedException"
    assert "no resource-based policy allows the kms:Decrypt action" in failed.message

    diagnosis = kmslab_scenario.diagnose()
    assert diagnosis["primary"] == "KEY_POLICY_NO_ALLOW"
    # Our on-call helper gives the right advice on the real evidence.
    assert advice(diagnosis) == "ask the key owners to add the role to the key policy"

    kmslab_scenario.fix()
    assert kmslab_scenario.call().ok


@pytest.mark.kmslab_scenario("key-disabled")
def test_our_app_reports_a_disabled_key_clearly(kmslab_lab, kmslab_scenario):
    import boto3

    kms = boto3.client(
        "kms",
        endpoint_url=kmslab_lab.endpoint,
        region_name=kmslab_scenario.region,
        **kmslab_scenario.credentials,
    )
    key = kmslab_scenario.names["key"]["data"]["arn"]
    with pytest.raises(kms.exceptions.DisabledException):
        kms.encrypt(KeyId=key, Plaintext=b"invoice 42")
    assert advice(kmslab_scenario.diagnose()) == ADVICE_DISABLED


ADVICE_DISABLED = "enable the key (kms enable-key) if it was disabled by mistake"
