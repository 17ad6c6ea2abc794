"""PutKeyPolicy / CreateKey policy validation (API_PutKeyPolicy.html): malformed documents,
principals that do not exist ("Policy contains a statement with one or more invalid
principals."), the 32 KB limit (key-policy-overview.html, LimitExceededException) and the
lockout safety check ("The new key policy will not allow you to update the key policy in the
future.") unless BypassPolicyLockoutSafetyCheck is set."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from lab.labkit import APP, LabKit, allow, error


def policy(principal: object, action: object = "kms:*") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}
            ],
        }
    )


def put(lab: LabKit, key: str, text: str, bypass: bool = False) -> None:
    lab.client("kms").put_key_policy(
        KeyId=key, PolicyName="default", Policy=text, BypassPolicyLockoutSafetyCheck=bypass
    )


def test_malformed_json(lab: LabKit) -> None:
    key = lab.key()["Arn"]
    with pytest.raises(ClientError) as exc:
        put(lab, key, '{"Version": "2012-10-17", "Statement": [')
    assert error(exc)[0] == "MalformedPolicyDocumentException"


def test_invalid_principals(lab: LabKit) -> None:
    key = lab.key()["Arn"]
    for principal in (
        {"AWS": f"arn:aws:iam::{APP}:role/ghost"},
        {"AWS": "AROAEXAMPLEORPHANED01"},
        {"AWS": f"arn:aws:iam::{APP}:role/*"},
    ):
        with pytest.raises(ClientError) as exc:
            put(
                lab,
                key,
                json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": f"arn:aws:iam::{APP}:root"},
                                "Action": "kms:*",
                                "Resource": "*",
                            },
                            {
                                "Effect": "Allow",
                                "Principal": principal,
                                "Action": "kms:Decrypt",
                                "Resource": "*",
                            },
                        ],
                    }
                ),
            )
        assert error(exc) == (
            "MalformedPolicyDocumentException",
            "Policy contains a statement with one or more invalid principals.",
        )
    role = lab.role("real")
    put(
        lab,
        key,
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{APP}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": role},
                        "Action": "kms:Decrypt",
                        "Resource": "*",
                    },
                ],
            }
        ),
    )


def test_size_limit(lab: LabKit) -> None:
    key = lab.key()["Arn"]
    big = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "x" * 33000,
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{APP}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )
    with pytest.raises(ClientError) as exc:
        put(lab, key, big)
    assert error(exc)[0] == "LimitExceededException"


def test_lockout_safety_check(lab: LabKit) -> None:
    key = lab.key()["Arn"]
    lockout = policy({"AWS": f"arn:aws:iam::{APP}:root"}, "kms:Decrypt")
    with pytest.raises(ClientError) as exc:
        put(lab, key, lockout)
    assert error(exc) == (
        "MalformedPolicyDocumentException",
        "The new key policy will not allow you to update the key policy in the future.",
    )
    with pytest.raises(ClientError) as exc:
        lab.client("kms").create_key(Policy=lockout)
    assert error(exc)[0] == "MalformedPolicyDocumentException"
    put(lab, key, lockout, bypass=True)
    assert json.loads(
        lab.client("kms").get_key_policy(KeyId=key, PolicyName="default")["Policy"]
    ) == json.loads(lockout)


def root_statement(resource: str, action: object = "kms:*") -> dict[str, object]:
    return {
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{APP}:root"},
        "Action": action,
        "Resource": resource,
    }


@pytest.mark.parametrize("form", ["key-arn", "star"])
def test_lockout_check_follows_the_iam_path_on_the_key_arn(lab: LabKit, form: str) -> None:
    """API_PutKeyPolicy.html: the new policy "must allow the principal that is making the
    PutKeyPolicy request to make a subsequent PutKeyPolicy request on the KMS key". In a key
    policy, Resource "*" means this key (key-policy-overview.html), so the key ARN is the same;
    a root statement delegates to IAM (key-policy-default.html#key-policy-default-allow-root-
    enable-iam), and the role's IAM policy allows kms:* on its account's keys."""
    role = lab.role("keyadmin", policy=allow("kms:*", f"arn:aws:kms:*:{APP}:key/*"))
    kms = lab.client("kms", creds=lab.assume(role))
    key = lab.key()["Arn"]
    resource = key if form == "key-arn" else "*"
    new = json.dumps({"Version": "2012-10-17", "Statement": [root_statement(resource)]})
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=new)
    assert kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"] == new
    # ... and the check held: the role can update it again.
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=new)


def test_lockout_check_refuses_a_policy_that_leaves_the_caller_out(lab: LabKit) -> None:
    role = lab.role("keyadmin", policy=allow("kms:*", f"arn:aws:kms:*:{APP}:key/*"))
    kms = lab.client("kms", creds=lab.assume(role))
    key = lab.key()["Arn"]
    read_only = json.dumps(
        {"Version": "2012-10-17", "Statement": [root_statement(key, ["kms:Describe*"])]}
    )
    with pytest.raises(ClientError) as exc:
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy=read_only)
    assert error(exc) == (
        "MalformedPolicyDocumentException",
        "The new key policy will not allow you to update the key policy in the future.",
    )
    # The operator acts as the account's root user: Resource as the key ARN counts for it too.
    put(lab, key, json.dumps({"Version": "2012-10-17", "Statement": [root_statement(key)]}))
    # BypassPolicyLockoutSafetyCheck skips the check; afterwards the role is locked out.
    kms.put_key_policy(
        KeyId=key, PolicyName="default", Policy=read_only, BypassPolicyLockoutSafetyCheck=True
    )
    with pytest.raises(ClientError) as exc:
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy=read_only)
    assert error(exc)[0] == "AccessDeniedException"


def test_lockout_check_needs_the_iam_allow_when_only_the_root_statement_allows(lab: LabKit) -> None:
    """The root statement enables IAM policies and grants nothing by itself
    (key-policy-default.html#key-policy-default-allow-root-enable-iam): a role allowed
    PutKeyPolicy only by a statement naming it, with no IAM allow, is refused a policy that keeps
    only the root statement."""
    role = lab.role("narrow", policy=allow(["kms:Describe*"], "*"))
    key = lab.key()["Arn"]
    named = {
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": "kms:PutKeyPolicy",
        "Resource": "*",
    }
    put(lab, key, json.dumps({"Version": "2012-10-17", "Statement": [root_statement("*"), named]}))
    kms = lab.client("kms", creds=lab.assume(role))
    only_root = json.dumps({"Version": "2012-10-17", "Statement": [root_statement("*")]})
    with pytest.raises(ClientError) as exc:
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy=only_root)
    assert error(exc) == (
        "MalformedPolicyDocumentException",
        "The new key policy will not allow you to update the key policy in the future.",
    )
