"""Hand-written bundles per rule: a positive, a negative and a near miss (one that looks close).

Each builder cites the AWS page whose documented shapes and behaviour it encodes. A positive
expects its code as the primary finding unless it says "present" (found, but not the root cause).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .builder import (
    ACCT,
    KEY_ARN,
    KEY_ID,
    OTHER,
    OTHER_KEY_ARN,
    OTHER_KEY_ID,
    REGION,
    ROLE_ARN,
    SESSION_ARN,
    THROTTLED_MESSAGE,
    Bundle,
    allow,
    ct_event,
    deny,
    healthy,
    identity_allow,
    policy,
    root_statement,
)

Case = tuple[Callable[[], dict[str, Any]], str]  # (bundle, "primary" | "present" | "absent")

ADMIN = f"arn:aws:iam::{ACCT}:role/admin"
X_SESSION = f"arn:aws:sts::{OTHER}:assumed-role/app/x-1"
X_ROLE = f"arn:aws:iam::{OTHER}:role/app"
MRK = "mrk-1234abcd12ab34cd56ef1234567890ab"


def _without(b: Bundle, *operations: str) -> Bundle:
    b.calls = [c for c in b.calls if c["operation"] not in operations]
    return b


def _key_policy(b: Bundle, doc: dict[str, Any]) -> Bundle:
    _without(b, "GetKeyPolicy")
    return b.key_policy(doc)


def _dk(b: Bundle, **md: Any) -> Bundle:
    _without(b, "DescribeKey")
    return b.describe_key(**md)


# -- step 1 -------------------------------------------------------------------------------------
# AWS Health DescribeEvents shape: https://docs.aws.amazon.com/health/latest/APIReference/API_DescribeEvents.html
def service_event(region: str = REGION) -> dict[str, Any]:
    b = healthy().observed("KMSInternalException", "")
    b.health(
        {
            "arn": "arn:aws:health:us-east-1::event/KMS/AWS_KMS_OPERATIONAL_ISSUE/1",
            "service": "KMS",
            "eventTypeCode": "AWS_KMS_OPERATIONAL_ISSUE",
            "eventTypeCategory": "issue",
            "region": region,
            "startTime": "2026-11-29T11:00:00Z",
            "statusCode": "open",
        }
    )
    return b.build()


# -- step 2: key state (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html) ----
def _in_state(state: str, code: str, words: str, **md: Any) -> dict[str, Any]:
    """A key in ``state`` and the key-state table's error for it: "<key ARN> is <words>."."""
    b = _dk(healthy(), KeyState=state, Enabled=False, **md)
    return b.observed(code, f"{KEY_ARN} is {words}.").build()


def disabled() -> dict[str, Any]:
    return _in_state("Disabled", "DisabledException", "disabled")


def pending_deletion(code: str = "KMSInvalidStateException") -> dict[str, Any]:
    return _in_state(
        "PendingDeletion", code, "pending deletion", DeletionDate="2026-12-06T00:00:00Z"
    )


def disabled_code_pending_message() -> dict[str, Any]:
    # The key-state table allows DisabledException "... is pending deletion" for crypto ops.
    return pending_deletion("DisabledException")


def cancelled_deletion() -> dict[str, Any]:
    # deleting-keys-cancelling-key-deletion.html: a cancelled key comes back Disabled.
    return _dk(healthy(), KeyState="Disabled", Enabled=False).build()


# importing-keys.html: Origin EXTERNAL, ExpirationModel, ValidTo.
def pending_import() -> dict[str, Any]:
    return _in_state(
        "PendingImport",
        "KMSInvalidStateException",
        "pending import",
        Origin="EXTERNAL",
        ExpirationModel="KEY_MATERIAL_EXPIRES",
        ValidTo="2026-11-01T00:00:00Z",
    )


def external_valid() -> dict[str, Any]:
    return _dk(
        healthy(),
        Origin="EXTERNAL",
        ExpirationModel="KEY_MATERIAL_EXPIRES",
        ValidTo="2027-11-01T00:00:00Z",
    ).build()


# fix-keystore.html / API_DescribeCustomKeyStores.html
def _cloudhsm_store(b: Bundle, connection: str) -> Bundle:
    store = {
        "CustomKeyStoreId": "cks-1234567890abcdef0",
        "CustomKeyStoreName": "hsm",
        "CloudHsmClusterId": "cluster-1a23b4cdefg",
        "ConnectionState": connection,
        "CustomKeyStoreType": "AWS_CLOUDHSM",
    }
    return b.call("kms", "DescribeCustomKeyStores", {}, {"CustomKeyStores": [store]})


def unavailable() -> dict[str, Any]:
    b = _dk(
        healthy(),
        KeyState="Unavailable",
        Enabled=True,
        Origin="AWS_CLOUDHSM",
        CustomKeyStoreId="cks-1234567890abcdef0",
        CloudHsmClusterId="cluster-1a23b4cdefg",
    )
    _cloudhsm_store(b, "DISCONNECTED")
    return b.observed("KMSInvalidStateException", f"{KEY_ARN} is unavailable.").build()


def store_connected() -> dict[str, Any]:
    b = _dk(healthy(), Origin="AWS_CLOUDHSM", CustomKeyStoreId="cks-1234567890abcdef0")
    return _cloudhsm_store(b, "CONNECTED").build()


def creating() -> dict[str, Any]:
    return _in_state("Creating", "KMSInvalidStateException", "creating")


def replica_enabled() -> dict[str, Any]:
    return _dk(healthy(), MultiRegion=True).build()


# -- resolution (API_DescribeKey.html errors; catalog #14, #50, #51) -----------------------------
def not_found() -> dict[str, Any]:
    b = _without(healthy(), "DescribeKey", "GetKeyPolicy", "ListGrants")
    msg = f"Key '{KEY_ARN}' does not exist"
    return b.describe_key_error("NotFoundException", msg).observed("NotFoundException", msg).build()


def wrong_region() -> dict[str, Any]:
    west = KEY_ARN.replace(REGION, "us-west-2")
    b = _without(healthy(), "DescribeKey", "GetKeyPolicy", "ListGrants")
    b.request["key"] = west
    return (
        b.describe_key_error("NotFoundException", "Invalid arn us-west-2")
        .observed("NotFoundException", "Invalid arn us-west-2")
        .build()
    )


def wrong_region_ciphertext() -> dict[str, Any]:
    # Ciphertext-only Decrypt in the wrong Region: the ambiguous message (catalog #50) while the
    # Encrypt event shows the key in another Region.
    west = KEY_ARN.replace(REGION, "us-west-2")
    b = Bundle(key="")
    b.request.pop("key")
    b.request["key"] = ""
    b.observed(
        "AccessDeniedException",
        "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
    )
    b.cloudtrail(ct_event("Encrypt", key_arn=west, context={}, region="us-west-2"))
    return b.build()


def alias_missing() -> dict[str, Any]:
    b = _without(healthy(key="alias/missing"), "DescribeKey", "GetKeyPolicy", "ListGrants")
    msg = f"Alias arn:aws:kms:{REGION}:{ACCT}:alias/missing is not found."
    return b.describe_key_error("NotFoundException", msg).observed("NotFoundException", msg).build()


def alias_cross_account() -> dict[str, Any]:
    # key-policy-modifying-external-accounts.html#cross-account-use: an alias name resolves in the caller's account.
    b = Bundle(principal=SESSION_ARN, key="alias/shared-data", key_account=OTHER)
    msg = f"Alias arn:aws:kms:{REGION}:{ACCT}:alias/shared-data is not found."
    b.describe_key_error("NotFoundException", msg).aliases([]).observed("NotFoundException", msg)
    return b.build()


def alias_present() -> dict[str, Any]:
    return healthy(key="alias/app-data").build()


def replica_missing() -> dict[str, Any]:
    # multi-region-keys-overview.html: MultiRegionConfiguration lists the primary and replicas.
    arn = f"arn:aws:kms:eu-west-1:{ACCT}:key/{MRK}"
    b = Bundle(key=arn, region="eu-west-1")
    b.describe_key_error("NotFoundException", f"Key '{arn}' does not exist")
    cfg = {
        "MultiRegionKeyType": "PRIMARY",
        "PrimaryKey": {"Arn": arn.replace("eu-west-1", REGION), "Region": REGION},
        "ReplicaKeys": [{"Arn": arn.replace("eu-west-1", "us-west-2"), "Region": "us-west-2"}],
    }
    b.describe_key(
        region=REGION,
        key_id=arn.replace("eu-west-1", REGION),
        KeyId=MRK,
        Arn=arn.replace("eu-west-1", REGION),
        MultiRegion=True,
        MultiRegionConfiguration=cfg,
    )
    return b.observed("NotFoundException", f"Key '{arn}' does not exist").build()


def replica_present_elsewhere_not_found() -> dict[str, Any]:
    # The replica exists in the Region called, but this call failed for an unrelated NotFound.
    arn = f"arn:aws:kms:eu-west-1:{ACCT}:key/{MRK}"
    b = Bundle(key=arn, region="eu-west-1")
    cfg = {
        "MultiRegionKeyType": "PRIMARY",
        "PrimaryKey": {"Arn": arn.replace("eu-west-1", REGION), "Region": REGION},
        "ReplicaKeys": [{"Arn": arn, "Region": "eu-west-1"}],
    }
    b.describe_key(
        region=REGION,
        key_id=arn.replace("eu-west-1", REGION),
        KeyId=MRK,
        Arn=arn.replace("eu-west-1", REGION),
        MultiRegion=True,
        MultiRegionConfiguration=cfg,
    )
    b.describe_key(region="eu-west-1", KeyId=MRK, Arn=arn, MultiRegion=True)
    return b.build()


# -- step 3/4: key policy (key-policies.html, key-policy-default.html, IAM principal docs) --------
def no_allow() -> dict[str, Any]:
    return (
        _key_policy(healthy(), policy(allow(ADMIN, "kms:*", sid="Admins")))
        .denied("resource-based policy")
        .build()
    )


def _mismatch(value: str) -> dict[str, Any]:
    return (
        _key_policy(
            healthy(),
            policy(
                allow(ADMIN, "kms:*", sid="Admins"), allow(value, "kms:Decrypt", sid="AppDecrypt")
            ),
        )
        .denied("resource-based policy")
        .build()
    )


def mismatch_session() -> dict[str, Any]:
    return _mismatch(f"arn:aws:sts::{ACCT}:assumed-role/app/i-0old")


def mismatch_account() -> dict[str, Any]:
    return _mismatch(f"arn:aws:iam::{OTHER}:role/app")


def mismatch_unique_id() -> dict[str, Any]:
    return _mismatch("AROAOLDDELETEDROLE01")


def mismatch_type() -> dict[str, Any]:
    return _mismatch(f"arn:aws:iam::{ACCT}:user/app")


def names_role() -> dict[str, Any]:
    return _key_policy(
        healthy(),
        policy(
            allow(ADMIN, "kms:*", sid="Admins"), allow(ROLE_ARN, "kms:Decrypt", sid="AppDecrypt")
        ),
    ).build()


def condition_unmet() -> dict[str, Any]:
    # conditions-kms.html#conditions-kms-via-service
    st = allow(
        ROLE_ARN,
        "kms:Decrypt",
        sid="ViaS3",
        condition={"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
    )
    return (
        _key_policy(healthy(), policy(allow(ADMIN, "kms:*", sid="Admins"), st))
        .denied("resource-based policy")
        .build()
    )


def condition_met() -> dict[str, Any]:
    st = allow(
        ROLE_ARN,
        "kms:Decrypt",
        sid="ViaS3",
        condition={"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
    )
    return _key_policy(
        healthy(context={"kms:ViaService": f"s3.{REGION}.amazonaws.com"}),
        policy(allow(ADMIN, "kms:*", sid="Admins"), st),
    ).build()


def key_policy_deny() -> dict[str, Any]:
    return (
        _key_policy(
            healthy(),
            policy(root_statement(), deny("kms:Decrypt", sid="NoAppDecrypt", principal=ROLE_ARN)),
        )
        .denied("resource-based policy", explicit=True)
        .build()
    )


def key_policy_deny_other_action() -> dict[str, Any]:
    return _key_policy(
        healthy(),
        policy(root_statement(), deny("kms:ScheduleKeyDeletion", sid="NoDelete", principal="*")),
    ).build()


# -- step 5: IAM (troubleshoot_access-denied.html; cmks-in-iam-policies.html) ---------------------
def iam_none() -> dict[str, Any]:
    b = _without(healthy(), "GetRolePolicy", "ListRolePolicies")
    return b.no_identity_policies().denied("identity-based policy").build()


def iam_alias_resource() -> dict[str, Any]:
    b = _without(healthy(), "GetRolePolicy", "ListRolePolicies")
    return (
        b.inline(
            "use-alias",
            policy(identity_allow("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCT}:alias/app-data")),
        )
        .denied("identity-based policy")
        .build()
    )


def iam_deny() -> dict[str, Any]:
    return (
        healthy()
        .managed(
            f"arn:aws:iam::{ACCT}:policy/guardrail",
            policy(
                {"Sid": "NoDecrypt", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}
            ),
        )
        .denied("identity-based policy", explicit=True)
        .build()
    )


def iam_deny_other_action() -> dict[str, Any]:
    return (
        healthy()
        .managed(
            f"arn:aws:iam::{ACCT}:policy/guardrail",
            policy(
                {
                    "Sid": "NoDelete",
                    "Effect": "Deny",
                    "Action": "kms:ScheduleKeyDeletion",
                    "Resource": "*",
                }
            ),
        )
        .build()
    )


BOUNDARY = f"arn:aws:iam::{ACCT}:policy/boundary"


def boundary_blocks() -> dict[str, Any]:
    # Catalog #8: the boundary applies even when the key policy names the role ARN.
    b = _without(healthy(), "GetRole")
    b.role(boundary=BOUNDARY).managed(
        BOUNDARY, policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}), attach=False
    )
    return (
        _key_policy(b, policy(root_statement(), allow(ROLE_ARN, "kms:Decrypt", sid="App")))
        .denied("permissions boundary")
        .build()
    )


def boundary_allows() -> dict[str, Any]:
    b = _without(healthy(), "GetRole")
    b.role(boundary=BOUNDARY).managed(
        BOUNDARY,
        policy({"Effect": "Allow", "Action": ["s3:*", "kms:Decrypt"], "Resource": "*"}),
        attach=False,
    )
    return b.build()


def _assume(session: str, pol: dict[str, Any]) -> dict[str, Any]:
    # CloudTrail AssumeRole record: requestParameters.policy is the session policy (IAM reference_policies.html#policies_session).
    return ct_event(
        "AssumeRole",
        source="sts.amazonaws.com",
        key_arn="",
        principal=f"arn:aws:iam::{ACCT}:user/deployer",
        time="2026-11-29T11:30:00Z",
        params={"roleArn": ROLE_ARN, "roleSessionName": session, "policy": json.dumps(pol)},
        response={
            "assumedRoleUser": {
                "arn": f"arn:aws:sts::{ACCT}:assumed-role/app/{session}",
                "assumedRoleId": f"AROAEXAMPLEAPPROLE01:{session}",
            }
        },
    )


def session_blocks() -> dict[str, Any]:
    return (
        healthy()
        .cloudtrail(
            _assume(
                "i-0abc", policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
            )
        )
        .denied("session policy")
        .build()
    )


def session_other() -> dict[str, Any]:
    return (
        healthy()
        .cloudtrail(
            _assume(
                "someone-else",
                policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
            )
        )
        .build()
    )


FULL = policy({"Effect": "Allow", "Action": "*", "Resource": "*"})


def scp_blocks() -> dict[str, Any]:
    # Organizations ListParents / ListPoliciesForTarget / DescribePolicy shapes.
    guard = policy(
        {"Sid": "NoKmsDecrypt", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}
    )
    return (
        healthy()
        .org(
            "SERVICE_CONTROL_POLICY",
            [
                ("r-abcd", [("p-full", FULL)]),
                ("ou-abcd-1111", [("p-full", FULL), ("p-nokms", guard)]),
                (ACCT, [("p-full", FULL)]),
            ],
        )
        .denied("service control policy", explicit=True)
        .build()
    )


def scp_other_action() -> dict[str, Any]:
    guard = policy(
        {
            "Sid": "NoKmsDelete",
            "Effect": "Deny",
            "Action": "kms:ScheduleKeyDeletion",
            "Resource": "*",
        }
    )
    return (
        healthy()
        .org(
            "SERVICE_CONTROL_POLICY",
            [
                ("r-abcd", [("p-full", FULL)]),
                ("ou-abcd-1111", [("p-full", FULL), ("p-nokms", guard)]),
                (ACCT, [("p-full", FULL)]),
            ],
        )
        .build()
    )


def scp_message_only() -> dict[str, Any]:
    # SCPs are not visible from a member account: the message is the signal (catalog #6).
    b = healthy().call(
        "organizations",
        "ListPoliciesForTarget",
        {"TargetId": ACCT, "Filter": "SERVICE_CONTROL_POLICY"},
        error=("AccessDeniedException", "You don't have permissions to access this resource."),
    )
    return b.denied("service control policy", explicit=True).build()


def _rcp(org: str) -> dict[str, Any]:
    # resource-control-policies.html: an identity-perimeter RCP.
    perimeter = policy(
        {
            "Sid": "Perimeter",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "kms:*",
            "Resource": "*",
            "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-mine"}},
        }
    )
    return (
        healthy(context={"aws:PrincipalOrgID": org})
        .org(
            "RESOURCE_CONTROL_POLICY",
            [("r-abcd", [("p-rcpfull", FULL)]), (ACCT, [("p-perimeter", perimeter)])],
        )
        .build()
    )


def rcp_blocks() -> dict[str, Any]:
    b = _rcp("o-other")
    b["request"]["observed_error"] = {
        "code": "AccessDeniedException",
        "message": f"User: {SESSION_ARN} is not authorized to perform: kms:Decrypt on resource: {KEY_ARN} with an explicit deny in a resource control policy",
    }
    return b


def rcp_inside() -> dict[str, Any]:
    return _rcp("o-mine")


# -- step 6: aliases (alias-using.html; ct-decrypt.html) -----------------------------------------
def alias_repointed() -> dict[str, Any]:
    b = Bundle(key="alias/app-data", encryption_context={"app": "billing"})
    b.describe_key(key_id="alias/app-data", KeyId=OTHER_KEY_ID, Arn=OTHER_KEY_ARN)
    b.key_policy(policy(root_statement()), key_arn=OTHER_KEY_ARN).role().inline(
        "use", policy(identity_allow("kms:Decrypt", "*"))
    )
    b.aliases(
        [
            {
                "AliasName": "alias/app-data",
                "AliasArn": f"arn:aws:kms:{REGION}:{ACCT}:alias/app-data",
                "TargetKeyId": OTHER_KEY_ID,
                "LastUpdatedDate": "2026-11-29T10:00:00Z",
            }
        ]
    )
    b.cloudtrail(
        ct_event(
            "Encrypt",
            key_arn=KEY_ARN,
            key_param="alias/app-data",
            context={"app": "billing"},
            time="2026-11-28T09:00:00Z",
        ),
        ct_event(
            "UpdateAlias",
            key_arn="",
            params={"aliasName": "alias/app-data", "targetKeyId": OTHER_KEY_ID},
            time="2026-11-29T10:00:00Z",
        ),
    )
    return b.observed(
        "IncorrectKeyException",
        "The key ID in the request does not identify a CMK that can perform this operation.",
    ).build()


def alias_same_target() -> dict[str, Any]:
    b = healthy(key="alias/app-data", encryption_context={"app": "billing"})
    b.cloudtrail(
        ct_event("Encrypt", key_arn=KEY_ARN, key_param="alias/app-data", context={"app": "billing"})
    )
    return b.build()


# -- step 7: cross-account (key-policy-modifying-external-accounts.html; policy-evaluation.html Example 2)
def _cross(key_policy: dict[str, Any], identity: bool) -> Bundle:
    b = Bundle(principal=X_SESSION)
    b.describe_key().key_policy(key_policy).role(arn=X_ROLE, role_id="AROAEXAMPLEXACCOUNT1")
    if identity:
        b.inline("use-shared-key", policy(identity_allow("kms:Decrypt")))
    else:
        b.no_identity_policies()
    return b


def cross_key_policy() -> dict[str, Any]:
    return _cross(policy(root_statement()), True).denied("resource-based policy").build()


def cross_ok() -> dict[str, Any]:
    return _cross(
        policy(
            root_statement(), root_statement(OTHER) | {"Sid": "External", "Action": "kms:Decrypt"}
        ),
        True,
    ).build()


def cross_iam() -> dict[str, Any]:
    return (
        _cross(
            policy(
                root_statement(),
                root_statement(OTHER) | {"Sid": "External", "Action": "kms:Decrypt"},
            ),
            False,
        )
        .denied("identity-based policy")
        .build()
    )


# -- step 7: grants (grants.html; create-grant-overview.html#grant-constraints; API_ListGrants.html)
def _grant(
    ops: list[str], created: str = "2026-11-20T00:00:00Z", constraints: dict[str, Any] | None = None
) -> dict[str, Any]:
    g: dict[str, Any] = {
        "KeyId": KEY_ARN,
        "GrantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60",
        "Name": "app",
        "CreationDate": created,
        "GranteePrincipal": ROLE_ARN,
        "IssuingAccount": f"arn:aws:iam::{ACCT}:root",
        "Operations": ops,
    }
    if constraints:
        g["Constraints"] = constraints
    return g


def _grant_bundle(grant: dict[str, Any], **req: Any) -> Bundle:
    b = Bundle(**req)
    b.describe_key().key_policy(
        policy(allow(ADMIN, "kms:*", sid="Admins"))
    ).role().no_identity_policies()
    return b.grants([grant])


def grant_op_missing() -> dict[str, Any]:
    return (
        _grant_bundle(_grant(["Encrypt", "GenerateDataKey"]))
        .denied("resource-based policy")
        .build()
    )


def grant_op_present() -> dict[str, Any]:
    return _grant_bundle(_grant(["Decrypt"])).build()


def grant_constraint() -> dict[str, Any]:
    return (
        _grant_bundle(
            _grant(["Decrypt"], constraints={"EncryptionContextEquals": {"app": "billing"}}),
            encryption_context={"app": "hr"},
        )
        .denied("resource-based policy")
        .build()
    )


def grant_constraint_key_case() -> dict[str, Any]:
    # Constraint keys compare case-insensitively (GrantConstraints API doc).
    return _grant_bundle(
        _grant(["Decrypt"], constraints={"EncryptionContextEquals": {"app": "billing"}}),
        encryption_context={"App": "billing"},
    ).build()


def grant_fresh(tokens: int = 0, created: str = "2026-11-29T11:58:30Z") -> dict[str, Any]:
    return (
        _grant_bundle(_grant(["Decrypt"], created=created), grant_tokens=tokens)
        .denied("resource-based policy")
        .build()
    )


def grant_token_invalid() -> dict[str, Any]:
    return healthy(grant_tokens=1).observed("InvalidGrantTokenException", "").build()


def invalid_ciphertext_plain() -> dict[str, Any]:
    return healthy().observed("InvalidCiphertextException", "").build()


# -- step 8 / no correlation: VPC endpoint (kms-vpc-endpoint.html#vpce-policy) -------------------
def _vpce(actions: list[str]) -> Bundle:
    doc = policy(
        {
            "Sid": "AppOnly",
            "Effect": "Allow",
            "Principal": {"AWS": ROLE_ARN},
            "Action": actions,
            "Resource": "*",
        }
    )
    b = healthy(context={"aws:SourceVpce": "vpce-0abc1234"})
    return b.call(
        "ec2",
        "DescribeVpcEndpoints",
        {"Filters": [{"Name": "service-name", "Values": [f"com.amazonaws.{REGION}.kms"]}]},
        {
            "VpcEndpoints": [
                {
                    "VpcEndpointId": "vpce-0abc1234",
                    "VpcEndpointType": "Interface",
                    "ServiceName": f"com.amazonaws.{REGION}.kms",
                    "State": "available",
                    "PolicyDocument": json.dumps(doc),
                }
            ]
        },
    )


def vpce_blocks() -> dict[str, Any]:
    return _vpce(["kms:Encrypt"]).denied("VPC endpoint policy").build()


def vpce_allows() -> dict[str, Any]:
    return _vpce(["kms:Decrypt"]).build()


# -- multi-Region replica divergence (multi-region-keys-auth.html) --------------------------------
def _mrk(here_policy: dict[str, Any]) -> Bundle:
    region = "us-west-2"
    arn = f"arn:aws:kms:{region}:{ACCT}:key/{MRK}"
    b = Bundle(key=arn, region=region)
    b.describe_key(KeyId=MRK, Arn=arn, MultiRegion=True).key_policy(
        here_policy, key_arn=arn
    ).role().inline("use", policy(identity_allow("kms:Decrypt", f"arn:aws:kms:*:{ACCT}:key/{MRK}")))
    b.describe_key(
        region=REGION,
        key_id=arn.replace(region, REGION),
        KeyId=MRK,
        Arn=arn.replace(region, REGION),
        MultiRegion=True,
    )
    b.key_policy(policy(root_statement()), region=REGION, key_arn=arn.replace(region, REGION))
    return b


def mrk_diverged() -> dict[str, Any]:
    return (
        _mrk(policy(allow(ADMIN, "kms:*", sid="Admins")))
        .denied("resource-based policy", resource=f"arn:aws:kms:us-west-2:{ACCT}:key/{MRK}")
        .build()
    )


def mrk_same() -> dict[str, Any]:
    return _mrk(policy(root_statement())).build()


# -- extra: usage, ciphertext, context, key (API_Decrypt.html errors; ct-decrypt.html) -----------
def usage_sign_key() -> dict[str, Any]:
    return (
        _dk(
            healthy(),
            KeyUsage="SIGN_VERIFY",
            KeySpec="ECC_NIST_P256",
            CustomerMasterKeySpec="ECC_NIST_P256",
        )
        .observed("InvalidKeyUsageException", "")
        .build()
    )


def usage_rsa_decrypt() -> dict[str, Any]:
    return _dk(
        healthy(),
        KeySpec="RSA_2048",
        CustomerMasterKeySpec="RSA_2048",
        EncryptionAlgorithms=["RSAES_OAEP_SHA_256"],
    ).build()


def usage_rsa_datakey() -> dict[str, Any]:
    b = healthy(action="kms:GenerateDataKey")
    return (
        _dk(b, KeySpec="RSA_2048", CustomerMasterKeySpec="RSA_2048")
        .observed("InvalidKeyUsageException", "")
        .build()
    )


def context_mismatch() -> dict[str, Any]:
    b = healthy(encryption_context={"app": "Billing"})
    b.cloudtrail(
        ct_event("GenerateDataKey", context={"app": "billing"}, time="2026-11-28T09:00:00Z")
    )
    return b.observed("InvalidCiphertextException", "").build()


def context_same() -> dict[str, Any]:
    b = healthy(
        encryption_context={"app": "billing"}, ciphertext={"length": 412, "kms_blob": False}
    )
    b.cloudtrail(
        ct_event("GenerateDataKey", context={"app": "billing"}, time="2026-11-28T09:00:00Z")
    )
    return b.observed("InvalidCiphertextException", "").build()


def incorrect_key() -> dict[str, Any]:
    b = healthy(encryption_context={"app": "billing"})
    b.cloudtrail(
        ct_event(
            "Encrypt",
            key_arn=OTHER_KEY_ARN,
            context={"app": "billing"},
            time="2026-11-28T09:00:00Z",
        )
    )
    return b.observed(
        "IncorrectKeyException",
        "The key ID in the request does not identify a CMK that can perform this operation.",
    ).build()


def aws_managed() -> dict[str, Any]:
    # The AWS managed key policy shape (key-policy-default.html / concepts.html#aws-managed-cmk).
    managed = policy(
        {
            "Sid": "Allow access through S3",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": ACCT,
                    "kms:ViaService": f"s3.{REGION}.amazonaws.com",
                }
            },
        }
    )
    return (
        _key_policy(
            _dk(healthy(), KeyManager="AWS", Description="Default key that protects my S3 objects"),
            managed,
        )
        .denied("resource-based policy")
        .build()
    )


def aws_managed_via_service() -> dict[str, Any]:
    managed = policy(
        {
            "Sid": "Allow access through S3",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": ACCT,
                    "kms:ViaService": f"s3.{REGION}.amazonaws.com",
                }
            },
        }
    )
    return _key_policy(
        _dk(healthy(context={"kms:ViaService": f"s3.{REGION}.amazonaws.com"}), KeyManager="AWS"),
        managed,
    ).build()


def _big_policy(target: int) -> dict[str, Any]:
    st = [root_statement()]
    i = 0
    while len(json.dumps(policy(*st))) < target:
        st.append(
            allow(f"arn:aws:iam::{ACCT}:role/team-{i:04d}", "kms:Decrypt", sid=f"Team{i:04d}")
        )
        i += 1
    return policy(*st[:-1]) if len(json.dumps(policy(*st))) > target + 200 else policy(*st)


def policy_too_large() -> dict[str, Any]:
    b = healthy(action="kms:PutKeyPolicy")
    return _key_policy(b, _big_policy(33_000)).observed("LimitExceededException", "").build()


def policy_below_limit() -> dict[str, Any]:
    return _key_policy(healthy(), _big_policy(30_000)).build()


def grant_limit() -> dict[str, Any]:
    return healthy(action="kms:CreateGrant").observed("LimitExceededException", "").build()


def put_policy_limit() -> dict[str, Any]:
    return healthy(action="kms:PutKeyPolicy").observed("LimitExceededException", "").build()


def throttled() -> dict[str, Any]:
    # throttling.html documents this message.
    return healthy().observed("ThrottlingException", THROTTLED_MESSAGE).build()


def credentials_expired() -> dict[str, Any]:
    # KMS (JSON protocol) text for an expired session: IAM API CommonErrors, ExpiredTokenException.
    return (
        healthy()
        .observed("ExpiredTokenException", "The security token included in the request is expired")
        .build()
    )


def credentials_wrong_secret() -> dict[str, Any]:
    # reference_sigv-troubleshooting.html: the text of a signature that does not verify.
    return (
        healthy()
        .observed(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details.",
        )
        .build()
    )


def investigator_denied() -> dict[str, Any]:
    return _without(healthy(), "GetKeyPolicy").key_policy_error().build()


def role_missing() -> dict[str, Any]:
    # iam GetRole NoSuchEntity is a fact about the principal, not an investigator failure.
    b = _without(healthy(), "GetRole")
    return b.call(
        "iam",
        "GetRole",
        {"RoleName": "app"},
        error=("NoSuchEntity", "The role with name app cannot be found."),
    ).build()


def healthy_bundle() -> dict[str, Any]:
    return healthy().build()


def healthy_but_denied() -> dict[str, Any]:
    return healthy().denied("resource-based policy").build()


def _meta_key_id() -> str:
    return KEY_ID


CASES: dict[str, dict[str, Case]] = {
    "KMS_SERVICE_EVENT": {
        "positive": (service_event, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (lambda: service_event("us-west-2"), "absent"),
    },
    "KEY_DISABLED": {
        "positive": (disabled, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (disabled_code_pending_message, "absent"),
    },
    "KEY_PENDING_DELETION": {
        "positive": (pending_deletion, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (cancelled_deletion, "absent"),
    },
    "KEY_PENDING_IMPORT": {
        "positive": (pending_import, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (external_valid, "absent"),
    },
    "KEY_UNAVAILABLE": {
        "positive": (unavailable, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (store_connected, "absent"),
    },
    "KEY_STATE_TRANSITION": {
        "positive": (creating, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (replica_enabled, "absent"),
    },
    "KEY_NOT_FOUND": {
        "positive": (not_found, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (wrong_region, "absent"),
    },
    "WRONG_REGION": {
        "positive": (wrong_region, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (not_found, "absent"),
    },
    "ALIAS_NOT_FOUND": {
        "positive": (alias_missing, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (alias_present, "absent"),
    },
    "MULTI_REGION_REPLICA_MISSING": {
        "positive": (replica_missing, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (replica_present_elsewhere_not_found, "absent"),
    },
    "KEY_POLICY_NO_ALLOW": {
        "positive": (no_allow, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (mismatch_session, "absent"),
    },
    "KEY_POLICY_PRINCIPAL_MISMATCH": {
        "positive": (mismatch_session, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (names_role, "absent"),
    },
    "KEY_POLICY_CONDITION_UNMET": {
        "positive": (condition_unmet, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (condition_met, "absent"),
    },
    "KEY_POLICY_EXPLICIT_DENY": {
        "positive": (key_policy_deny, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (key_policy_deny_other_action, "absent"),
    },
    "IAM_NO_ALLOW": {
        "positive": (iam_none, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (iam_alias_resource, "absent"),
    },
    "IAM_RESOURCE_MISMATCH": {
        "positive": (iam_alias_resource, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (iam_none, "absent"),
    },
    "IAM_EXPLICIT_DENY": {
        "positive": (iam_deny, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (iam_deny_other_action, "absent"),
    },
    "PERMISSIONS_BOUNDARY_BLOCKS": {
        "positive": (boundary_blocks, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (boundary_allows, "absent"),
    },
    "SESSION_POLICY_BLOCKS": {
        "positive": (session_blocks, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (session_other, "absent"),
    },
    "SCP_BLOCKS": {
        "positive": (scp_blocks, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (scp_other_action, "absent"),
    },
    "RCP_BLOCKS": {
        "positive": (rcp_blocks, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (rcp_inside, "absent"),
    },
    "ALIAS_WRONG_TARGET": {
        "positive": (alias_repointed, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (alias_same_target, "absent"),
    },
    "CROSS_ACCOUNT_KEY_POLICY_MISSING": {
        "positive": (cross_key_policy, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (cross_ok, "absent"),
    },
    "CROSS_ACCOUNT_IAM_MISSING": {
        "positive": (cross_iam, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (cross_ok, "absent"),
    },
    "GRANT_OPERATION_MISSING": {
        "positive": (grant_op_missing, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (grant_op_present, "absent"),
    },
    "GRANT_CONSTRAINT_UNMET": {
        "positive": (grant_constraint, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (grant_constraint_key_case, "absent"),
    },
    "GRANT_TOKEN_NEEDED": {
        "positive": (grant_fresh, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (lambda: grant_fresh(created="2026-11-29T11:30:00Z"), "absent"),
    },
    "GRANT_TOKEN_INVALID": {
        "positive": (grant_token_invalid, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (invalid_ciphertext_plain, "absent"),
    },
    "VPC_ENDPOINT_POLICY_BLOCKS": {
        "positive": (vpce_blocks, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (vpce_allows, "absent"),
    },
    "MULTI_REGION_REPLICA_DIVERGED": {
        "positive": (mrk_diverged, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (mrk_same, "absent"),
    },
    "KEY_USAGE_MISMATCH": {
        "positive": (usage_sign_key, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (usage_rsa_decrypt, "absent"),
    },
    "ENCRYPTION_CONTEXT_MISMATCH": {
        "positive": (context_mismatch, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (context_same, "absent"),
    },
    "CIPHERTEXT_INVALID": {
        "positive": (context_same, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (context_mismatch, "absent"),
    },
    "INCORRECT_KEY": {
        "positive": (incorrect_key, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (context_same, "absent"),
    },
    "AWS_MANAGED_KEY_MISUSE": {
        "positive": (aws_managed, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (aws_managed_via_service, "absent"),
    },
    "KEY_POLICY_TOO_LARGE": {
        "positive": (policy_too_large, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (policy_below_limit, "absent"),
    },
    "GRANT_LIMIT_REACHED": {
        "positive": (grant_limit, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (put_policy_limit, "absent"),
    },
    "THROTTLED": {
        "positive": (throttled, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (invalid_ciphertext_plain, "absent"),
    },
    "CREDENTIALS_INVALID": {
        "positive": (credentials_expired, "primary"),
        "negative": (healthy_bundle, "absent"),
        # A grant token is a token too, but refusing it is KMS's authorization, not AWS's
        # authentication: GRANT_TOKEN_INVALID, not this.
        "near_miss": (grant_token_invalid, "absent"),
    },
    "INVESTIGATOR_ACCESS_DENIED": {
        "positive": (investigator_denied, "primary"),
        "negative": (healthy_bundle, "absent"),
        "near_miss": (role_missing, "absent"),
    },
    "NO_FAULT_FOUND": {
        "positive": (healthy_bundle, "present"),
        "negative": (disabled, "absent"),
        "near_miss": (no_allow, "absent"),
    },
}
