"""Is a fix legitimate? The setup after the fix, compared with the scenario's intent.

A fix that makes the application's call succeed can still be wrong: it may open the key to
everyone or hand out every KMS action. Two kinds of checks, each with its own reason code:

- statement rules, over what the fix added (statements that are not in the scenario's
  fixed setup): `Principal: "*"` without a condition that limits who
  (KEY_POLICY_OPEN_TO_EVERYONE), every KMS action to everyone or to an account
  (ALL_KMS_ACTIONS_TO_EVERYONE, ALL_KMS_ACTIONS_TO_ACCOUNT), every KMS action in an identity
  policy (IAM_ALL_KMS_ACTIONS);
- probes with the evaluator (`harness.policy.evaluate`), for what statements do rather
  than how they are written: a principal of an unrelated account with full IAM rights on its
  side (OPEN_TO_OTHER_ACCOUNTS), a principal of the participant's account with no IAM
  permissions (OPEN_TO_ACCOUNT_PRINCIPALS), and every other principal that an explicit Deny
  protects in the intended setup (DENY_PROTECTION_REMOVED) must not be allowed after the fix
  unless the intended setup allows them too.

Sources: key-policy-overview.html (Principal "*" gives every principal of every account
access unless conditions limit it), key-policy-default.html (kms:* lets the principal
administer and delete the key), IAM reference_policies_evaluation-logic.html (explicit deny).

Over 400 lines because: the statement rules and the evaluator probes share one reading of
the intended and the fixed setup; each reason code is a few lines of it.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from harness.aws import arns
from harness.policy import PolicyError, evaluate

# Condition keys that say *who* may call; one with a specific value narrows "*".
NARROWING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:PrincipalArn",
        "aws:PrincipalAccount",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "kms:CallerAccount",
        "aws:SourceVpce",
        "aws:SourceVpc",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:userid",
        "aws:username",
    )
)
# Of those, the ones that name a single principal (not a whole account or organization).
PRINCIPAL_KEYS = frozenset(k.lower() for k in ("aws:PrincipalArn", "aws:userid", "aws:username"))
POSITIVE_OPERATORS = frozenset(
    op.lower()
    for op in ("StringEquals", "StringLike", "StringEqualsIgnoreCase", "ArnEquals", "ArnLike")
)
PROBE_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:CreateGrant",
    "kms:PutKeyPolicy",
    "kms:DisableKey",
    "kms:ScheduleKeyDeletion",
)
FULL_IAM = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass
class SetupView:
    """The authorization-relevant state of a setup: policies by logical name, grants by key."""

    key_policies: dict[str, Any] = field(default_factory=dict)
    key_arns: dict[str, str] = field(default_factory=dict)
    identity: dict[str, list[Any]] = field(default_factory=dict)
    principal_arns: dict[str, str] = field(default_factory=dict)
    grants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejection:
    code: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason}


def statements(policy: Any) -> list[dict[str, Any]]:
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return []
    if not isinstance(policy, dict):
        return []
    found = policy.get("Statement", [])
    items = found if isinstance(found, list) else [found]
    return [s for s in items if isinstance(s, dict)]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        if len(items) == 1:
            return items[0]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def statement_key(statement: dict[str, Any]) -> str:
    """Identity of a statement for "was it in the intended setup": its content without Sid."""
    body = {k: v for k, v in statement.items() if k != "Sid"}
    return json.dumps(_canonical(body), sort_keys=True)


def added_statements(actual: Any, intended: Any) -> list[dict[str, Any]]:
    known = {statement_key(s) for s in statements(intended)}
    return [s for s in statements(actual) if statement_key(s) not in known]


def describe(statement: dict[str, Any], index: int | None = None) -> str:
    if statement.get("Sid"):
        return f"statement {statement['Sid']!r}"
    return f"statement {index}" if index is not None else "a statement"


def principal_values(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return [str(v) for v in _as_list(principal.get("AWS"))]
    return []


def is_everyone(statement: dict[str, Any]) -> bool:
    """Principal "*" / {"AWS": "*"} (or a list holding it), or an Allow with NotPrincipal."""
    return "*" in principal_values(statement) or "NotPrincipal" in statement


def narrowing_keys(statement: dict[str, Any]) -> set[str]:
    """Condition keys that limit, to specific values, who the statement applies to."""
    found: set[str] = set()
    for operator, block in (statement.get("Condition") or {}).items():
        base = operator.split(":", 1)[-1].lower()
        if base.endswith("ifexists") or base not in POSITIVE_OPERATORS:
            continue
        if not isinstance(block, dict):
            continue
        for key, values in block.items():
            vals = [str(v) for v in _as_list(values)]
            if key.lower() in NARROWING_KEYS and vals and "*" not in vals:
                found.add(key.lower())
    return found


def grants_all_kms(statement: dict[str, Any]) -> bool:
    if "NotAction" in statement:
        return True
    return any(str(a).lower() in ("*", "kms:*") for a in _as_list(statement.get("Action")))


def account_roots(statement: dict[str, Any]) -> list[str]:
    out = []
    for value in principal_values(statement):
        if arns.principal(value).kind == "root":
            out.append(arns.principal(value).account)
    return out


# -- statement rules ----------------------------------------------------------------------


def key_policy_rules(key: str, actual: Any, intended: Any) -> list[Rejection]:
    found = []
    for statement in added_statements(actual, intended):
        if statement.get("Effect") != "Allow":
            continue
        where = f"key policy of key {key!r}, {describe(statement)}"
        narrowed = narrowing_keys(statement)
        if is_everyone(statement) and not narrowed:
            found.append(
                Rejection(
                    "KEY_POLICY_OPEN_TO_EVERYONE",
                    f'{where} allows Principal "*" with no condition that limits who '
                    "(aws:PrincipalArn, aws:PrincipalAccount, kms:CallerAccount, "
                    "aws:PrincipalOrgID, ...): any principal of any AWS account could use "
                    "the key; name the application's role instead",
                )
            )
        if grants_all_kms(statement) and is_everyone(statement) and not narrowed & PRINCIPAL_KEYS:
            found.append(
                Rejection(
                    "ALL_KMS_ACTIONS_TO_EVERYONE",
                    f"{where} grants every KMS action (kms:*) to everyone"
                    + (f" matching {sorted(narrowed)}" if narrowed else "")
                    + ", including kms:PutKeyPolicy and kms:ScheduleKeyDeletion; allow only "
                    "the operations the application needs",
                )
            )
        for account in account_roots(statement):
            if grants_all_kms(statement):
                found.append(
                    Rejection(
                        "ALL_KMS_ACTIONS_TO_ACCOUNT",
                        f"{where} grants every KMS action (kms:*) to account {account}, so "
                        "any principal there with an IAM policy can administer and delete the "
                        "key; allow the application's role only the operations it needs",
                    )
                )
    return found


def identity_rules(principal: str, actual: list[Any], intended: list[Any]) -> list[Rejection]:
    found = []
    known = [s for doc in intended for s in statements(doc)]
    for doc in actual:
        for statement in added_statements(doc, {"Statement": known}):
            if statement.get("Effect") == "Allow" and grants_all_kms(statement):
                resources = _as_list(statement.get("Resource")) or ["*"]
                found.append(
                    Rejection(
                        "IAM_ALL_KMS_ACTIONS",
                        f"an identity policy of {principal!r} now allows every KMS action "
                        f"(kms:*) on {', '.join(map(str, resources))}; allow only the "
                        "operations the application needs on its key",
                    )
                )
    return found


# -- probes -------------------------------------------------------------------------------


def _grants_for(view: SetupView, key: str) -> list[dict[str, Any]]:
    out = []
    for grant in view.grants.get(key, []):
        item = {"GranteePrincipal": grant["GranteePrincipal"], "Operations": grant["Operations"]}
        if grant.get("Constraints"):
            item["Constraints"] = grant["Constraints"]
        out.append(item)
    return out


def decide(view: SetupView, key: str, principal: str, action: str, identity: list[Any]) -> Any:
    doc = {
        "request": {"principal": principal, "action": action, "resource": view.key_arns[key]},
        "key_policy": view.key_policies.get(key) or {"Version": "2012-10-17", "Statement": []},
        "identity_policies": copy.deepcopy(identity),
        "grants": _grants_for(view, key),
    }
    try:
        return evaluate(doc)
    except PolicyError:
        return None


def denying_statement(result: Any) -> str:
    for entry in result.trace:
        for st in entry.get("statements", []):
            if st.get("effect") == "Deny" and st.get("matched"):
                name = st.get("sid") or f"statement {st.get('index')}"
                return f"{entry['layer']} Deny {name!r}"
    return "an explicit Deny"


@dataclass
class Probe:
    principal: str
    label: str
    identity_actual: list[Any]
    identity_intended: list[Any]


def probes(
    intended: SetupView,
    actual: SetupView,
    *,
    affected: str,
    space_accounts: list[str],
    outsider_account: str,
    actions: list[str],
) -> list[Rejection]:
    """Principals other than the affected one must not gain what the intended setup denies."""
    outsider = Probe(
        f"arn:aws:iam::{outsider_account}:role/someone-else",
        f"a principal of an unrelated account ({outsider_account}) with full IAM rights there",
        [FULL_IAM],
        [FULL_IAM],
    )
    bare = [
        Probe(
            f"arn:aws:iam::{a}:role/kmslab-probe-no-permissions",
            f"a principal of account {a} with no IAM permissions",
            [],
            [],
        )
        for a in space_accounts
    ]
    admins = [
        Probe(
            f"arn:aws:iam::{a}:role/kmslab-probe-admin",
            f"an administrator of account {a}",
            [FULL_IAM],
            [FULL_IAM],
        )
        for a in space_accounts
    ]
    others = [
        Probe(
            arn,
            f"principal {name!r} ({arn})",
            actual.identity.get(name, []),
            intended.identity.get(name, []),
        )
        for name, arn in actual.principal_arns.items()
        if arn != affected and name in intended.principal_arns
    ]
    found: list[Rejection] = []
    seen: set[tuple[str, str]] = set()
    for key in actual.key_arns:
        if key not in intended.key_arns:
            continue
        for action in actions:
            for probe, code in (
                [(outsider, "OPEN_TO_OTHER_ACCOUNTS")]
                + [(p, "OPEN_TO_ACCOUNT_PRINCIPALS") for p in bare]
                + [(p, "DENY_PROTECTION_REMOVED") for p in admins + others]
            ):
                if (code, probe.principal + key) in seen:
                    continue
                before = decide(intended, key, probe.principal, action, probe.identity_intended)
                after = decide(actual, key, probe.principal, action, probe.identity_actual)
                if before is None or after is None or before.allowed or not after.allowed:
                    continue
                if code == "DENY_PROTECTION_REMOVED" and before.decision != "ExplicitDeny":
                    continue
                seen.add((code, probe.principal + key))
                if code == "DENY_PROTECTION_REMOVED":
                    reason = (
                        f"the intended setup keeps {probe.label} from {action} on key {key!r} "
                        f"with {denying_statement(before)}; after the fix it is allowed: "
                        "a Deny that protects other principals was removed or weakened"
                    )
                else:
                    reason = (
                        f"{probe.label} can now call {action} on key {key!r} "
                        f"(allowed by {', '.join(after.allowed_by)}); the intended setup "
                        "does not allow it"
                    )
                found.append(Rejection(code, reason))
    return found


def analyse(
    intended: SetupView,
    actual: SetupView,
    *,
    affected: str,
    space_accounts: list[str],
    outsider_account: str,
    call_action: str,
) -> list[Rejection]:
    """Every reason the fix is not legitimate (empty when it is)."""
    found: list[Rejection] = []
    for key, policy in actual.key_policies.items():
        found += key_policy_rules(key, policy, intended.key_policies.get(key))
    for name, docs in actual.identity.items():
        found += identity_rules(name, docs, intended.identity.get(name, []))
    actions = [call_action] + [a for a in PROBE_ACTIONS if a != call_action]
    semantic = probes(
        intended,
        actual,
        affected=affected,
        space_accounts=space_accounts,
        outsider_account=outsider_account,
        actions=actions,
    )
    statement_codes = {r.code for r in found}
    for rejection in semantic:
        # The statement rule already says it, more precisely.
        if (
            rejection.code == "OPEN_TO_OTHER_ACCOUNTS"
            and "KEY_POLICY_OPEN_TO_EVERYONE" in statement_codes
        ):
            continue
        found.append(rejection)
    return found
