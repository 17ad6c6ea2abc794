"""Authorization of KMS calls made with issued credentials.

Message shapes: IAM User Guide, troubleshoot_access-denied.html ("User: <arn> is not authorized
to perform: <action> on resource: <arn> because no <type> policy allows the <action> action" /
"with an explicit deny in a <type> policy"). Layer rules: KMS Developer Guide key-policies.html,
key-policy-default.html (the root statement enables IAM policies), policy-evaluation.html,
key-policy-modifying-external-accounts.html (cross-account needs the key policy and the caller's
IAM), grants.html (grant tokens and eventual consistency), kms-vpc-endpoint.html,
conditions-kms.html (kms:ViaService, kms:EncryptionContext:), IAM reference_policies_evaluation-logic.html
(boundaries, session policies, SCPs: no SCP applies to the management account).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lab.labkit import APP, OTHER, LabKit, allow, error


def key_policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def root(account: str = APP, actions: Any = "kms:*") -> dict[str, Any]:
    return {
        "Sid": "Root",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": actions,
        "Resource": "*",
    }


def denied(lab: LabKit, fn: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as exc:
        fn(**kwargs)
    code, message = error(exc)
    assert code == "AccessDeniedException", message
    return message


def test_key_policy_without_root_statement_ignores_iam(lab: LabKit) -> None:
    role = lab.role("app", policy=allow())
    key = lab.key(
        Policy=key_policy(root(APP, ["kms:PutKeyPolicy", "kms:Describe*"])),
        BypassPolicyLockoutSafetyCheck=True,
    )
    kms = lab.client("kms", creds=lab.assume(role))
    message = denied(lab, kms.encrypt, KeyId=key["Arn"], Plaintext=b"x")
    assert message == (
        f"User: arn:aws:sts::{APP}:assumed-role/app/s1 is not authorized to perform: kms:Encrypt on resource: "
        f"{key['Arn']} because no resource-based policy allows the kms:Encrypt action"
    )


def test_root_statement_delegates_to_iam(lab: LabKit) -> None:
    key = lab.key()
    role = lab.role("app")
    kms = lab.client("kms", creds=lab.assume(role))
    message = denied(lab, kms.encrypt, KeyId=key["Arn"], Plaintext=b"x")
    assert message.endswith("because no identity-based policy allows the kms:Encrypt action")
    lab.client("iam").put_role_policy(
        RoleName="app", PolicyName="p", PolicyDocument=allow("kms:Encrypt", key["Arn"])
    )
    assert kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")["KeyId"] == key["Arn"]
    other = lab.key()
    assert denied(lab, kms.encrypt, KeyId=other["Arn"], Plaintext=b"x").endswith(
        "no identity-based policy allows the kms:Encrypt action"
    )


def test_explicit_deny_in_key_policy(lab: LabKit) -> None:
    role = lab.role("app", policy=allow())
    deny = {"Effect": "Deny", "Principal": {"AWS": role}, "Action": "kms:Decrypt", "Resource": "*"}
    key = lab.key(Policy=key_policy(root(), deny))
    blob = lab.client("kms").encrypt(KeyId=key["Arn"], Plaintext=b"x")["CiphertextBlob"]
    kms = lab.client("kms", creds=lab.assume(role))
    message = denied(lab, kms.decrypt, CiphertextBlob=blob, KeyId=key["Arn"])
    assert message.endswith("with an explicit deny in a resource-based policy")


def test_role_named_in_key_policy_needs_no_iam_but_boundary_applies(lab: LabKit) -> None:
    iam = lab.client("iam")
    boundary = iam.create_policy(PolicyName="b", PolicyDocument=allow("s3:*"))["Policy"]["Arn"]
    role = lab.role("app", PermissionsBoundary=boundary)
    named = {
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": "kms:Encrypt",
        "Resource": "*",
    }
    key = lab.key(Policy=key_policy(root(), named))
    kms = lab.client("kms", creds=lab.assume(role))
    message = denied(lab, kms.encrypt, KeyId=key["Arn"], Plaintext=b"x")
    assert message.endswith("because no permissions boundary allows the kms:Encrypt action")
    iam.delete_role_permissions_boundary(RoleName="app")
    assert kms.encrypt(KeyId=key["Arn"], Plaintext=b"x")["KeyId"] == key["Arn"]


def test_session_policy_limits_the_session(lab: LabKit) -> None:
    role = lab.role("app", policy=allow())
    key = lab.key()
    narrow = lab.assume(role, Policy=allow("kms:DescribeKey"))
    kms = lab.client("kms", creds=narrow)
    kms.describe_key(KeyId=key["Arn"])
    assert denied(lab, kms.encrypt, KeyId=key["Arn"], Plaintext=b"x").endswith(
        "because no session policy allows the kms:Encrypt action"
    )
    managed = lab.client("iam").create_policy(
        PolicyName="enc", PolicyDocument=allow("kms:Encrypt")
    )["Policy"]["Arn"]
    wider = lab.client("kms", creds=lab.assume(role, PolicyArns=[{"arn": managed}]))
    wider.encrypt(KeyId=key["Arn"], Plaintext=b"x")


def test_scp_applies_to_member_not_management_account(lab: LabKit) -> None:
    orgs = lab.client("organizations")
    deny = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "kms:Encrypt", "Resource": "*"}],
        }
    )
    pol = orgs.create_policy(
        Name="no-encrypt", Type="SERVICE_CONTROL_POLICY", Content=deny, Description=""
    )["Policy"]
    root_id = orgs.list_roots()["Roots"][0]["Id"]
    orgs.attach_policy(PolicyId=pol["PolicySummary"]["Id"], TargetId=root_id)
    member_key = lab.key(account=OTHER)
    member = lab.client("kms", creds=lab.assume(lab.role("app", account=OTHER, policy=allow())))
    assert denied(lab, member.encrypt, KeyId=member_key["Arn"], Plaintext=b"x").endswith(
        "with an explicit deny in a service control policy"
    )
    app_key = lab.key()
    lab.client("kms", creds=lab.assume(lab.role("app", policy=allow()))).encrypt(
        KeyId=app_key["Arn"], Plaintext=b"x"
    )
    orgs.detach_policy(PolicyId=pol["PolicySummary"]["Id"], TargetId=root_id)
    member.encrypt(KeyId=member_key["Arn"], Plaintext=b"x")
    with pytest.raises(ClientError) as exc:
        lab.client("organizations", OTHER).list_roots()
    assert error(exc)[0] == "AccessDeniedException"


def test_rcp_deny_outside_org(lab: LabKit) -> None:
    orgs = lab.client("organizations")
    org_id = orgs.describe_organization()["Organization"]["Id"]
    perimeter = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "kms:*",
                    "Resource": "*",
                    "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": org_id}},
                }
            ],
        }
    )
    pol = orgs.create_policy(
        Name="perimeter", Type="RESOURCE_CONTROL_POLICY", Content=perimeter, Description=""
    )["Policy"]
    orgs.attach_policy(PolicyId=pol["PolicySummary"]["Id"], TargetId=OTHER)
    outsider = "444455556666"
    shared = {
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{outsider}:root", f"arn:aws:iam::{APP}:root"]},
        "Action": "kms:Encrypt",
        "Resource": "*",
    }
    key = lab.key(account=OTHER, Policy=key_policy(root(OTHER), shared))
    outside = lab.client("kms", creds=lab.assume(lab.role("ext", account=outsider, policy=allow())))
    message = denied(lab, outside.encrypt, KeyId=key["Arn"], Plaintext=b"x")
    assert "resource control policy" in message
    inside = lab.client("kms", creds=lab.assume(lab.role("app", policy=allow())))
    assert inside.encrypt(KeyId=key["Arn"], Plaintext=b"x")["KeyId"] == key["Arn"]


def test_cross_account_needs_key_policy_and_caller_iam(lab: LabKit) -> None:
    blob_key = lab.key(account=OTHER)
    kms_other = lab.client("kms", OTHER)
    blob = kms_other.encrypt(KeyId=blob_key["Arn"], Plaintext=b"x")["CiphertextBlob"]
    caller = lab.client("kms", creds=lab.assume(lab.role("app", policy=allow())))
    assert denied(lab, caller.decrypt, CiphertextBlob=blob).endswith(
        "because no resource-based policy allows the kms:Decrypt action"
    )
    kms_other.put_key_policy(
        KeyId=blob_key["Arn"],
        PolicyName="default",
        Policy=key_policy(root(OTHER), root(APP, "kms:Decrypt")),
    )
    assert caller.decrypt(CiphertextBlob=blob)["KeyId"] == blob_key["Arn"]
    bare = lab.client("kms", creds=lab.assume(lab.role("bare")))
    assert denied(lab, bare.decrypt, CiphertextBlob=blob).endswith(
        "because no identity-based policy allows the kms:Decrypt action"
    )


def test_vpc_endpoint_policy_and_source_vpce(lab: LabKit) -> None:
    ec2 = lab.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    only_describe = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "kms:DescribeKey", "Resource": "*"}
            ],
        }
    )
    vpce = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.us-east-1.kms",
        VpcEndpointType="Interface",
        PolicyDocument=only_describe,
    )["VpcEndpoint"]["VpcEndpointId"]
    role = lab.role("app", policy=allow())
    gated = {
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceVpce": vpce}},
    }
    key = lab.key(
        Policy=key_policy(root(APP, ["kms:PutKeyPolicy", "kms:Describe*", "kms:Get*"]), gated)
    )
    creds = lab.assume(role)
    direct = lab.client("kms", creds=creds)
    assert denied(lab, direct.encrypt, KeyId=key["Arn"], Plaintext=b"x").endswith(
        "no resource-based policy allows the kms:Encrypt action"
    )
    via = lab.client("kms", creds=creds, headers={"X-Lab-Source-Vpce": vpce})
    via.describe_key(KeyId=key["Arn"])
    assert denied(lab, via.encrypt, KeyId=key["Arn"], Plaintext=b"x").endswith(
        "because no VPC endpoint policy allows the kms:Encrypt action"
    )
    full = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
            ],
        }
    )
    ec2.modify_vpc_endpoint(VpcEndpointId=vpce, PolicyDocument=full)
    via.encrypt(KeyId=key["Arn"], Plaintext=b"x")


def test_via_service_header_sets_kms_viaservice(lab: LabKit) -> None:
    role = lab.role("app")
    via_s3 = {
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": "kms:GenerateDataKey",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    }
    key = lab.key(Policy=key_policy(root(), via_s3))
    creds = lab.assume(role)
    direct = lab.client("kms", creds=creds)
    assert denied(lab, direct.generate_data_key, KeyId=key["Arn"], KeySpec="AES_256").endswith(
        "no identity-based policy allows the kms:GenerateDataKey action"
    )
    s3 = lab.client("kms", creds=creds, headers={"X-Lab-Via-Service": "s3.us-east-1.amazonaws.com"})
    assert s3.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256")["KeyId"] == key["Arn"]


def test_encryption_context_condition_is_access_denied_mismatch_is_invalid_ciphertext(
    lab: LabKit,
) -> None:
    role = lab.role("app")
    cond = {
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": ["kms:Decrypt", "kms:Encrypt"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:dept": "it"}},
    }
    key = lab.key(Policy=key_policy(root(), cond))
    kms = lab.client("kms", creds=lab.assume(role))
    blob = kms.encrypt(KeyId=key["Arn"], Plaintext=b"x", EncryptionContext={"dept": "it"})[
        "CiphertextBlob"
    ]
    denied(lab, kms.decrypt, CiphertextBlob=blob, EncryptionContext={"dept": "hr"})
    with pytest.raises(ClientError) as exc:
        lab.client("kms").decrypt(CiphertextBlob=blob, EncryptionContext={"dept": "hr"})
    assert error(exc)[0] == "InvalidCiphertextException"
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"dept": "it"})["Plaintext"] == b"x"


def test_grants_tokens_and_propagation(lab: LabKit) -> None:
    role = lab.role("app")
    key = lab.key()
    kms = lab.client("kms")
    blob = kms.encrypt(KeyId=key["Arn"], Plaintext=b"x", EncryptionContext={"k": "v"})[
        "CiphertextBlob"
    ]
    lab.admin.set_controls({"grant_propagation_seconds": 300})
    grant = kms.create_grant(
        KeyId=key["Arn"],
        GranteePrincipal=role,
        Operations=["Decrypt"],
        Constraints={"EncryptionContextSubset": {"k": "v"}},
    )
    app = lab.client("kms", creds=lab.assume(role))
    assert "is not authorized to perform: kms:Decrypt" in denied(
        lab, app.decrypt, CiphertextBlob=blob, EncryptionContext={"k": "v"}
    )
    out = app.decrypt(
        CiphertextBlob=blob, EncryptionContext={"k": "v"}, GrantTokens=[grant["GrantToken"]]
    )
    assert out["Plaintext"] == b"x"
    with pytest.raises(ClientError) as exc:
        app.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"}, GrantTokens=["not-a-token"])
    assert error(exc)[0] == "InvalidGrantTokenException"
    lab.admin.set_controls({"grant_propagation_seconds": 0})
    assert app.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"})["Plaintext"] == b"x"
    other_blob = kms.encrypt(KeyId=key["Arn"], Plaintext=b"x", EncryptionContext={"k": "w"})[
        "CiphertextBlob"
    ]
    denied(lab, app.decrypt, CiphertextBlob=other_blob, EncryptionContext={"k": "w"})
    denied(lab, app.encrypt, KeyId=key["Arn"], Plaintext=b"x", EncryptionContext={"k": "v"})
    listed = kms.list_grants(KeyId=key["Arn"])["Grants"]
    assert [g["GrantId"] for g in listed] == [grant["GrantId"]] and listed[0][
        "GranteePrincipal"
    ] == role
    kms.revoke_grant(KeyId=key["Arn"], GrantId=grant["GrantId"])
    denied(lab, app.decrypt, CiphertextBlob=blob, EncryptionContext={"k": "v"})


def test_grant_quota_from_controls(lab: LabKit) -> None:
    key = lab.key()
    kms = lab.client("kms")
    lab.admin.set_controls({"grant_quota": 2})
    for _ in range(2):
        kms.create_grant(
            KeyId=key["Arn"], GranteePrincipal=f"arn:aws:iam::{APP}:root", Operations=["Decrypt"]
        )
    with pytest.raises(ClientError) as exc:
        kms.create_grant(
            KeyId=key["Arn"], GranteePrincipal=f"arn:aws:iam::{APP}:root", Operations=["Decrypt"]
        )
    assert error(exc)[0] == "LimitExceededException"


def test_deleted_and_recreated_role_is_a_different_principal(lab: LabKit) -> None:
    """IAM reference_policies_elements_principal.html: after a role is deleted the key policy
    shows its unique id (AROA...), and a new role with the same name does not match it; grants
    to the old role do not apply to the new one (failure catalog rows 17 and 38)."""
    role = lab.role("app")
    named = {
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": "kms:Encrypt",
        "Resource": "*",
    }
    key = lab.key(Policy=key_policy(root(), named))
    grant_key = lab.key()
    kms = lab.client("kms")
    kms.create_grant(KeyId=grant_key["Arn"], GranteePrincipal=role, Operations=["Encrypt"])
    lab.client("kms", creds=lab.assume(role)).encrypt(KeyId=key["Arn"], Plaintext=b"x")
    lab.client("iam").delete_role(RoleName="app")
    stored = json.loads(kms.get_key_policy(KeyId=key["Arn"], PolicyName="default")["Policy"])
    orphan = stored["Statement"][1]["Principal"]["AWS"]
    assert orphan.startswith("AROA") and orphan != role
    again = lab.client("kms", creds=lab.assume(lab.role("app")))
    assert denied(lab, again.encrypt, KeyId=key["Arn"], Plaintext=b"x").endswith(
        "no identity-based policy allows the kms:Encrypt action"
    )
    denied(lab, again.encrypt, KeyId=grant_key["Arn"], Plaintext=b"x")
