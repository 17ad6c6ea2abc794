"""Lab controls for what AWS resources cannot build: throttling (throttling.html:
"You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."),
custom key stores (fix-keystore.html: keys in a disconnected store are Unavailable and fail with
KMSInvalidStateException "<key ARN> is unavailable."; API_CreateKey.html needs a CONNECTED store)
and AWS Health events (health API_DescribeEvents.html)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from lab.labkit import APP, OTHER, LabKit, error


def test_throttling_per_account(lab: LabKit) -> None:
    key = lab.key(account=OTHER)
    lab.admin.set_controls({"throttle": {OTHER: 0}})
    for call in (
        lambda: lab.client("kms", OTHER).encrypt(KeyId=key["Arn"], Plaintext=b"x"),
        lambda: lab.client("kms", OTHER).describe_key(KeyId=key["Arn"]),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == (
            "ThrottlingException",
            "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.",
        )
    # requests-per-second.html: management calls have quotas of their own
    lab.admin.set_controls({"throttle": {OTHER: {"rps": 0, "scope": "crypto"}}})
    with pytest.raises(ClientError) as exc:
        lab.client("kms", OTHER).encrypt(KeyId=key["Arn"], Plaintext=b"x")
    assert error(exc)[0] == "ThrottlingException"
    lab.client("kms", OTHER).describe_key(KeyId=key["Arn"])
    app_key = lab.key()
    lab.client("kms", APP).encrypt(KeyId=app_key["Arn"], Plaintext=b"x")
    lab.admin.set_controls({"throttle": {OTHER: 3}})
    kms = lab.client("kms", OTHER)
    codes = []
    for _ in range(6):
        try:
            kms.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256")
            codes.append("ok")
        except ClientError as err:
            codes.append(err.response["Error"]["Code"])
    assert codes.count("ok") == 3 and codes.count("ThrottlingException") == 3
    lab.admin.set_controls({"throttle": {OTHER: None}})
    kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")


def test_custom_key_store_disconnected_makes_keys_unavailable(lab: LabKit) -> None:
    kms = lab.client("kms")
    store = kms.create_custom_key_store(
        CustomKeyStoreName="hsm",
        CloudHsmClusterId="cluster-234567abcde",
        TrustAnchorCertificate="cert",
        KeyStorePassword="secret-pw",
    )["CustomKeyStoreId"]
    with pytest.raises(ClientError) as exc:
        kms.create_key(CustomKeyStoreId=store)
    assert error(exc)[0] == "CustomKeyStoreInvalidStateException"
    kms.connect_custom_key_store(CustomKeyStoreId=store)
    key = kms.create_key(CustomKeyStoreId=store)["KeyMetadata"]
    assert key["Origin"] == "AWS_CLOUDHSM" and key["CustomKeyStoreId"] == store
    blob = kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")["CiphertextBlob"]
    lab.admin.set_controls(
        {
            "custom_key_stores": {
                store: {"ConnectionState": "DISCONNECTED", "ConnectionErrorCode": "NETWORK_ERRORS"}
            }
        }
    )
    described = kms.describe_custom_key_stores(CustomKeyStoreId=store)["CustomKeyStores"][0]
    assert (described["ConnectionState"], described["ConnectionErrorCode"]) == (
        "DISCONNECTED",
        "NETWORK_ERRORS",
    )
    assert kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyState"] == "Unavailable"
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob)
    assert error(exc) == ("KMSInvalidStateException", f"{key['Arn']} is unavailable.")
    kms.connect_custom_key_store(CustomKeyStoreId=store)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    kms.disconnect_custom_key_store(CustomKeyStoreId=store)
    assert kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyState"] == "Unavailable"


def test_health_events_by_region(lab: LabKit) -> None:
    lab.admin.set_controls(
        {
            "health_events": [
                {
                    "region": "us-east-1",
                    "service": "KMS",
                    "eventTypeCode": "AWS_KMS_OPERATIONAL_ISSUE",
                    "statusCode": "open",
                    "description": "errors",
                },
                {
                    "region": "eu-west-1",
                    "service": "KMS",
                    "eventTypeCode": "AWS_KMS_OPERATIONAL_ISSUE",
                    "statusCode": "closed",
                },
            ]
        }
    )
    health = lab.client("health")
    found = health.describe_events(
        filter={"services": ["KMS"], "regions": ["us-east-1"], "eventStatusCodes": ["open"]}
    )["events"]
    assert [(e["region"], e["eventTypeCode"], e["statusCode"]) for e in found] == [
        ("us-east-1", "AWS_KMS_OPERATIONAL_ISSUE", "open")
    ]
    details = health.describe_event_details(eventArns=[found[0]["arn"]])["successfulSet"]
    assert details[0]["eventDescription"]["latestDescription"] == "errors"
    assert health.describe_events(filter={"regions": ["ap-south-1"]})["events"] == []
