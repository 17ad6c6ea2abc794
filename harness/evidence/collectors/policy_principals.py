"""Playbook step 5 (with step 2): the principal against the key policy's principals.

The key policy names principals by ARN; whether those IAM roles and users exist now, and
their unique ids, is what tells an exact match from a mistyped path, a session ARN or a
principal that was deleted and recreated. The caller's own role is already read by step 4,
so a key policy that names only the caller and accounts costs no extra call.
"""

from __future__ import annotations

from typing import Any

from harness.errors import UsageError
from harness.evidence.collectors.key_policy import read_key_policy
from harness.evidence.investigation import Investigation
from harness.evidence.registry import collector
from harness.evidence.request import parse_principal

MAX_PRINCIPALS = 5


@collector(
    "key_policy_principals",
    step="5",
    permissions=("kms:GetKeyPolicy", "iam:GetRole", "iam:GetUser"),
    needs_key=True,
)
def key_policy_principals(inv: Investigation) -> None:
    """GetRole/GetUser for the IAM principals the key policy names, where readable."""
    doc = read_key_policy(inv)
    if doc is None:
        return
    wanted: dict[tuple[str, str, str], None] = {}
    for arn in _aws_principals(doc):
        try:
            named = parse_principal(arn)
        except UsageError:
            continue  # an account id, "*" or a unique id: nothing to look up by name
        if named.role_name is not None:
            wanted[(named.account, "role", named.role_name)] = None
        elif named.user_name is not None:
            wanted[(named.account, "user", named.user_name)] = None
    jobs = []
    for account, kind, name in list(wanted)[:MAX_PRINCIPALS]:
        creds = inv.creds_for(account)
        if creds is None:
            continue
        if kind == "role":
            jobs.append((creds, "GetRole", {"RoleName": name}))
        else:
            jobs.append((creds, "GetUser", {"UserName": name}))
    inv.parallel(lambda job: inv.call(job[0], "iam", job[1], inv.global_region, job[2]), jobs)


def _aws_principals(doc: dict[str, Any]) -> list[str]:
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    found: list[str] = []
    for statement in statements if isinstance(statements, list) else []:
        if not isinstance(statement, dict):
            continue
        principal = statement.get("Principal")
        if not isinstance(principal, dict):
            continue
        aws = principal.get("AWS", [])
        for value in [aws] if isinstance(aws, str) else aws if isinstance(aws, list) else []:
            if isinstance(value, str):
                found.append(value)
    return found
