"""Who can apply a fix: a principal the bundle's key policy (or the account's IAM) lets make the
change, decided by the policy evaluator on the evidence, never assumed.

KMS rules this module leans on (AWS KMS Developer Guide, key-policy-default.html and
key-policy-overview.html): the key policy is the only way into a key; a statement naming
`arn:aws:iam::ACCOUNT:root` delegates to the account's IAM policies (so an IAM administrator of the
account can act, subject to the key policy's denies); a principal named directly needs no IAM
policy in its own account. When no statement lets anyone change the key policy, the key is
unmanageable and only AWS Support can restore access (key-policy-default.html, "Allows access to
the AWS account and enables IAM policies": "If you remove the statement ... the key becomes
unmanageable ... you must contact AWS Support to regain access").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.aws import arns
from harness.diagnosis.rules._policy import as_list, covers_action, statements

# What PutKeyPolicy's lockout safety check says (API_PutKeyPolicy.html, MalformedPolicyDocumentException).
LOCKOUT_MESSAGE = "The new key policy will not allow you to update the key policy in the future."
SUPPORT = (
    "nobody can change this key policy any more (no statement allows {action} to a principal "
    "or to the account's IAM policies): recovery needs AWS Support "
    "(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html)"
)


@dataclass(frozen=True)
class Applier:
    """Who may run a fix: ``arn`` (a principal ARN, or the account root for "an IAM administrator
    of that account"), how the evidence shows it may, and whether nobody can."""

    arn: str
    how: str
    nobody: bool = False
    unknown: bool = False

    @property
    def is_account(self) -> bool:
        return self.arn.endswith(":root")


def _key_resource(facts: Any) -> str:
    return str(
        facts.key_arn or f"arn:aws:kms:{facts.region}:{facts.key_account}:key/{facts.key_id}"
    )


_ADMIN_IDENTITY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def allows(
    policy: dict[str, Any], principal: str, action: str, resource: str, *, admin: bool = False
) -> bool:
    """Whether the key policy lets ``principal`` call the action (the evaluator decides); with
    ``admin`` the principal also holds an IAM policy that allows everything."""
    from harness.policy import PolicyError, evaluate

    doc: dict[str, Any] = {
        "request": {"principal": principal, "action": action, "resource": resource},
        "key_policy": policy,
    }
    if admin:
        doc["identity_policies"] = [_ADMIN_IDENTITY]
    try:
        result = evaluate(doc)
    except PolicyError:
        return False
    return result.decision == "Allowed"


def _account_delegated(policy: dict[str, Any], account: str, action: str, resource: str) -> bool:
    """An IAM administrator of the account (not named in the policy) may call the action: the
    root statement delegates to IAM and no Deny of the key policy stops it."""
    probe = f"arn:aws:iam::{account}:role/kmslab-probe-iam-administrator"
    return allows(policy, probe, action, resource, admin=True)


def key_applier(facts: Any, action: str = "kms:PutKeyPolicy") -> Applier:
    """Who may call ``action`` on the bundle's key, by its key policy.

    A principal the key policy names for the action comes first (least privilege: the key's own
    administrators); then the key owner's IAM administrators when the root statement delegates.
    """
    policy = facts.key_policy
    account = str(facts.key_account or facts.principal_account)
    if policy is None:
        return Applier(
            arns.account_root(account),
            f"the key policy could not be read: run as a principal the key policy lets call {action}",
            unknown=True,
        )
    resource = _key_resource(facts)
    named: list[str] = []
    for st in statements(policy):
        if st.get("Effect") != "Allow" or not covers_action(st, action):
            continue
        p = st.get("Principal")
        for v in as_list(p.get("AWS")) if isinstance(p, dict) else []:
            fresh = isinstance(v, str) and v not in named
            if fresh and v.startswith("arn:") and not v.endswith(":root"):
                named.append(v)
    for arn in named:
        parsed = arns.principal(arn)
        if parsed.account == account and allows(policy, arn, action, resource):
            return Applier(arn, f"the key policy allows {action} to {arn}")
    if _account_delegated(policy, account, action, resource):
        return Applier(
            arns.account_root(account),
            f"the key policy's root statement delegates {action} to account {account}'s IAM policies: "
            f"an IAM administrator of {account} (or a role whose IAM policy allows {action})",
        )
    return Applier(arns.account_root(account), SUPPORT.format(action=action), nobody=True)


def iam_applier(account: str, action: str) -> Applier:
    """IAM changes: an administrator of the principal's own account (IAM is per account)."""
    return Applier(
        arns.account_root(account),
        f"an IAM administrator of account {account} (a principal whose IAM policy allows {action})",
    )


def org_applier(facts: Any, action: str) -> Applier:
    """SCP/RCP changes: only the organization's management account (or a delegated administrator
    for policy management) can change organization policies (orgs_manage_policies.html)."""
    org = facts.organization or {}
    mgmt = str(org.get("MasterAccountId") or "")
    if mgmt:
        return Applier(
            arns.account_root(mgmt),
            f"the organization's management account {mgmt} (or a delegated administrator for "
            f"policy management) with {action}",
        )
    return Applier(
        "",
        f"the organization's management account (not in the bundle: DescribeOrganization was not "
        f"readable) with {action}",
        unknown=True,
    )


def lockout_safe(
    facts: Any, new_policy: dict[str, Any], applier: Applier
) -> tuple[dict[str, Any], str]:
    """The policy to put, and a note when the proposed one would trip the lockout safety check.

    PutKeyPolicy refuses a policy that would not let the caller update it again
    (API_PutKeyPolicy.html, BypassPolicyLockoutSafetyCheck). The safe form keeps the applier's
    kms:PutKeyPolicy with a statement of its own instead of bypassing the check.
    """
    if not applier.arn or applier.nobody or applier.unknown:
        return new_policy, ""
    resource = _key_resource(facts)
    account = arns.account_of(applier.arn) or ""
    still = (
        _account_delegated(new_policy, account, "kms:PutKeyPolicy", resource)
        if applier.is_account
        else allows(new_policy, applier.arn, "kms:PutKeyPolicy", resource)
    )
    if still:
        return new_policy, ""
    safe = dict(new_policy)
    safe["Statement"] = [
        *list(statements(new_policy)),
        {
            "Sid": "KeepKeyPolicyAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": applier.arn},
            "Action": ["kms:GetKeyPolicy", "kms:PutKeyPolicy"],
            "Resource": "*",
        },
    ]
    note = (
        f"as proposed, the new policy would trip PutKeyPolicy's lockout safety check "
        f"({LOCKOUT_MESSAGE!r}) for {applier.arn}; the command below is the safe form, which keeps "
        f"kms:GetKeyPolicy and kms:PutKeyPolicy for {applier.arn} (never pass "
        f"--bypass-policy-lockout-safety-check for this)"
    )
    return safe, note
