"""Fix text for the key and principal at hand: AWS CLI commands and Terraform snippets.

Every statement built here names one principal and the actions the request needs; nothing here
ever writes ``"Principal": "*"`` without a condition or grants ``kms:*`` to everyone.
"""

from __future__ import annotations

import json
import re
from typing import Any

from harness.diagnosis import arns
from harness.diagnosis.facts import Facts


def policy_principal(facts: Facts) -> str:
    """The ARN a policy should name for the caller: the role behind a session, else the caller."""
    if facts.principal.kind == "assumed-role":
        return facts.role_arn or facts.principal_arn
    return facts.principal_arn


def region_flag(facts: Facts, region: str | None = None) -> str:
    r = region or arns.region_of(facts.key_arn) or facts.region
    return f" --region {r}" if r else ""


def tf_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", text).strip("_").lower()
    return (name or "this")[:40]


def statement(
    sid: str,
    principal: str,
    actions: list[str],
    condition: dict[str, Any] | None = None,
    resource: str = "*",
) -> dict[str, Any]:
    st: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": actions if len(actions) > 1 else actions[0],
        "Resource": resource,
    }
    if condition:
        st["Condition"] = condition
    return st


def cli_edit_key_policy(facts: Facts, change: str, region: str | None = None) -> str:
    key = facts.key_ref
    rf = region_flag(facts, region)
    return (
        f"aws kms get-key-policy --key-id {key} --policy-name default --query Policy --output text{rf} > key-policy.json\n"
        f"# {change}\n"
        f"aws kms put-key-policy --key-id {key} --policy-name default --policy file://key-policy.json{rf}"
    )


def cli_add_key_policy_statement(
    facts: Facts, st: dict[str, Any], region: str | None = None
) -> str:
    return cli_edit_key_policy(
        facts,
        "add this statement to the Statement list of key-policy.json:\n# " + json.dumps(st),
        region,
    )


def _hcl_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def tf_key_policy_statement(facts: Facts, st: dict[str, Any]) -> str:
    actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
    principal = st["Principal"]["AWS"]
    cond = ""
    for op, pairs in (st.get("Condition") or {}).items():
        for key, val in pairs.items():
            vals = val if isinstance(val, list) else [val]
            cond += (
                "\n    condition {\n"
                f"      test     = {json.dumps(op)}\n"
                f"      variable = {json.dumps(key)}\n"
                f"      values   = {_hcl_list([str(v) for v in vals])}\n"
                "    }"
            )
    return (
        f"# add to the key policy document of {facts.key_ref}\n"
        f'data "aws_iam_policy_document" "{tf_name(facts.key_id or "key")}_policy" {{\n'
        "  # keep the existing statements (for example the account root statement) as they are\n"
        "  statement {\n"
        f"    sid       = {json.dumps(st['Sid'])}\n"
        '    effect    = "Allow"\n'
        "    principals {\n"
        '      type        = "AWS"\n'
        f"      identifiers = [{json.dumps(principal)}]\n"
        "    }\n"
        f"    actions   = {_hcl_list(actions)}\n"
        '    resources = ["*"]'
        f"{cond}\n"
        "  }\n"
        "}\n\n"
        f'resource "aws_kms_key_policy" "{tf_name(facts.key_id or "key")}" {{\n'
        f"  key_id = {json.dumps(facts.key_id or facts.key_ref)}\n"
        f"  policy = data.aws_iam_policy_document.{tf_name(facts.key_id or 'key')}_policy.json\n"
        "}"
    )


def identity_policy(
    facts: Facts, actions: list[str], resource: str | None = None
) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "UseKmsKey",
                "Effect": "Allow",
                "Action": actions if len(actions) > 1 else actions[0],
                "Resource": resource or facts.key_ref,
            }
        ],
    }


def _entity(facts: Facts) -> tuple[str, str]:
    """("role"|"user", name) of the caller's IAM identity."""
    p = facts.principal
    if p.kind in ("assumed-role", "role"):
        return "role", p.name
    if p.kind == "user":
        return "user", p.name
    return "role", p.name or "<role-name>"


def cli_put_identity_policy(facts: Facts, doc: dict[str, Any], name: str) -> str:
    kind, entity = _entity(facts)
    return (
        f"aws iam put-{kind}-policy --{kind}-name {entity} --policy-name {name} "
        f"--policy-document '{json.dumps(doc, separators=(',', ':'))}'"
    )


def tf_identity_policy(facts: Facts, doc: dict[str, Any], name: str) -> str:
    kind, entity = _entity(facts)
    st = doc["Statement"][0]
    actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
    return (
        f'resource "aws_iam_{kind}_policy" "{tf_name(name)}" {{\n'
        f"  name   = {json.dumps(name)}\n"
        f"  {kind}   = {json.dumps(entity)}\n"
        "  policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Effect   = "Allow"\n'
        f"      Action   = {_hcl_list(actions)}\n"
        f"      Resource = {json.dumps(st['Resource'])}\n"
        "    }]\n"
        "  })\n"
        "}"
    )


def needed_actions(facts: Facts) -> list[str]:
    action = facts.action or "kms:Decrypt"
    if action.lower() == "kms:reencrypt":
        return ["kms:ReEncryptFrom", "kms:ReEncryptTo"]
    return [action]
