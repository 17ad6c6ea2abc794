"""Fix text for the key and principal at hand: AWS CLI commands and Terraform snippets.

Every statement built here names one principal and the actions the request needs; nothing here
ever writes ``"Principal": "*"`` without a condition or grants ``kms:*`` to everyone.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from typing import Any

from harness.aws import arns
from harness.diagnosis.appliers import Applier, iam_applier, key_applier, lockout_safe
from harness.diagnosis.facts import Facts
from harness.diagnosis.model import Fix


def policy_principal(facts: Facts) -> str:
    """The ARN a policy should name for the caller: the role behind a session, else the caller."""
    if facts.principal.kind == "assumed-role":
        return facts.role_arn or facts.principal_arn
    return facts.principal_arn


def region_flag(facts: Facts, region: str | None = None) -> str:
    r = region or arns.region_of(facts.key_arn) or facts.region
    return f" --region {r}" if r else ""


def tf_name(text: str) -> str:
    """A Terraform identifier: letters, digits, underscores, and never a leading digit (key ids
    such as 1234abcd-... would otherwise make an invalid resource name)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", text).strip("_").lower()[:40] or "this"
    return name if name[0].isalpha() else f"key_{name}"[:40]


def compact(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"))


def sh(text: str) -> str:
    """One shell word: policies and ids go through shlex, so quotes inside them survive."""
    return shlex.quote(text)


def hcl_json(doc: Any) -> str:
    """A JSON document as an HCL expression (JSON objects are valid HCL object constructors);
    template sequences in policy variables (${aws:username}) are escaped for Terraform."""
    text = json.dumps(doc, indent=2)
    return text.replace("${", "$${").replace("%{", "%%{")


def key_id_arg(facts: Facts) -> str:
    """The key as the fix's commands name it: the key ARN (works from any account that may act on
    it), else the id the bundle resolved."""
    return facts.key_arn or facts.key_id or facts.request_key


def with_statement(policy: dict[str, Any] | None, st: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``policy`` with ``st`` added (replacing a statement of the same Sid)."""
    doc: dict[str, Any] = copy.deepcopy(policy) if policy else {"Version": "2012-10-17"}
    raw = doc.get("Statement")
    sts: list[Any] = raw if isinstance(raw, list) else [raw] if raw else []
    sts = [x for x in sts if not (isinstance(x, dict) and x.get("Sid") == st.get("Sid"))]
    doc["Statement"] = [*sts, st]
    doc.setdefault("Version", "2012-10-17")
    return doc


def applier_notes(applier: Applier) -> tuple[str, ...]:
    if applier.nobody:
        return (applier.how,)
    return ()


def key_policy_fix(
    facts: Facts, summary: str, new_policy: dict[str, Any], *, change: str = ""
) -> Fix:
    """A fix that puts a whole new key policy: runnable as is by the principal it names."""
    applier = key_applier(facts, "kms:PutKeyPolicy")
    policy, lockout = lockout_safe(facts, new_policy, applier)
    notes = list(applier_notes(applier))
    if lockout:
        notes.append(lockout)
    region = arns.region_of(facts.key_arn) or facts.region
    cli = (
        f"aws kms put-key-policy --key-id {sh(key_id_arg(facts))} --policy-name default "
        f"--policy {sh(compact(policy))}" + (f" --region {region}" if region else "")
    )
    name = tf_name(facts.key_id or "key")
    tf = (
        f"# the whole key policy of {facts.key_ref}{f' ({change})' if change else ''}\n"
        f'resource "aws_kms_key_policy" "{name}" {{\n'
        f"  key_id = {json.dumps(facts.key_id or facts.key_ref)}\n"
        f"  policy = jsonencode({hcl_json(policy)})\n"
        "}"
    )
    return Fix(
        summary=summary if not applier.nobody else f"{summary} Recovery needs AWS Support first.",
        cli=cli,
        terraform=tf,
        applied_by=applier.arn,
        applied_by_reason=applier.how,
        notes=tuple(notes),
    )


def key_call_fix(
    facts: Facts, summary: str, commands: list[str], permission: str, terraform: str
) -> Fix:
    """A fix made of KMS calls on the key (EnableKey, CancelKeyDeletion, CreateGrant, ...): run by
    a principal the key policy lets make the first call."""
    applier = key_applier(facts, permission)
    return Fix(
        summary=summary,
        cli="\n".join(commands),
        terraform=terraform,
        applied_by=applier.arn,
        applied_by_reason=applier.how,
        notes=applier_notes(applier),
    )


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
        f"aws iam put-{kind}-policy --{kind}-name {sh(entity)} --policy-name {sh(name)} "
        f"--policy-document {sh(compact(doc))}"
    )


def identity_fix(facts: Facts, summary: str, doc: dict[str, Any], name: str) -> Fix:
    """An inline policy on the caller's role or user, put by an IAM administrator of its account."""
    kind, _ = _entity(facts)
    applier = iam_applier(facts.principal_account, f"iam:Put{kind.title()}Policy")
    return Fix(
        summary=summary,
        cli=cli_put_identity_policy(facts, doc, name),
        terraform=tf_identity_policy(facts, doc, name),
        applied_by=applier.arn,
        applied_by_reason=applier.how,
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
    """Every action of the incident (contract 6: several actions, one fix that makes all work)."""
    out: list[str] = []
    for action in facts.actions or [facts.action or "kms:Decrypt"]:
        names = (
            ["kms:ReEncryptFrom", "kms:ReEncryptTo"]
            if action.lower() == "kms:reencrypt"
            else [action]
        )
        out += [n for n in names if n not in out]
    return out


def add_statement_fix(facts: Facts, summary: str, st: dict[str, Any]) -> Fix:
    """Add ``st`` to the key policy: the whole new policy when the bundle holds the current one;
    otherwise (unreadable) the read-edit-put steps, since a guessed policy would drop statements."""
    if facts.key_policy is not None:
        return key_policy_fix(
            facts, summary, with_statement(facts.key_policy, st), change=f"adds {st['Sid']}"
        )
    applier = key_applier(facts, "kms:PutKeyPolicy")
    return Fix(
        summary=summary,
        cli=cli_add_key_policy_statement(facts, st),
        terraform=tf_key_policy_statement(facts, st),
        applied_by=applier.arn,
        applied_by_reason=applier.how,
        notes=("the key policy was not readable: the edit step cannot be pre-computed",),
    )


def statement_by_sid(doc: dict[str, Any], sid: str) -> list[dict[str, Any]]:
    """Statements of ``doc`` (in place) that the rules call ``sid`` ("statement N" when unnamed)."""
    sts = doc.get("Statement")
    sts = sts if isinstance(sts, list) else [sts] if isinstance(sts, dict) else []
    out = []
    for i, st in enumerate(sts):
        if isinstance(st, dict) and (
            st.get("Sid") == sid or (not st.get("Sid") and sid == f"statement {i}")
        ):
            out.append(st)
    return out


def exempt_principal(st: dict[str, Any], principal: str) -> None:
    """Add ``principal`` to an ArnNotLike aws:PrincipalArn condition of a Deny (in place): the Deny
    then no longer applies to it; its other conditions still do (condition keys are ANDed)."""
    cond = st.setdefault("Condition", {})
    op = cond.setdefault("ArnNotLike", {})
    key = next((k for k in op if k.lower() == "aws:principalarn"), "aws:PrincipalArn")
    values = op.get(key, [])
    values = values if isinstance(values, list) else [values]
    if principal not in values:
        values.append(principal)
    op[key] = values if len(values) > 1 else values[0]


def replace_principal(st: dict[str, Any], old: str, new: str) -> None:
    p = st.get("Principal")
    if not isinstance(p, dict):
        return
    aws = p.get("AWS")
    if isinstance(aws, list):
        p["AWS"] = [new if v == old else v for v in aws]
        p["AWS"] = list(dict.fromkeys(p["AWS"]))
    elif aws == old:
        p["AWS"] = new


def tf_variable(name: str, description: str, type_: str = "string", sensitive: bool = False) -> str:
    """A value only the user has (a ciphertext, key material, which key was meant): declared so the
    snippet validates on its own and Terraform asks for it."""
    extra = "  sensitive   = true\n" if sensitive else ""
    return (
        f'variable "{name}" {{\n  description = {json.dumps(description)}\n  type        = {type_}\n'
        f"{extra}}}\n\n"
    )


def tf_grant(facts: Facts, operations: list[str]) -> str:
    """An aws_kms_grant for the caller on this key (Terraform exports its token)."""
    return (
        'resource "aws_kms_grant" "this" {\n'
        f"  name              = {json.dumps(tf_name(policy_principal(facts).rsplit('/', 1)[-1]))}\n"
        f"  key_id            = {json.dumps(facts.key_arn or facts.key_ref)}\n"
        f"  grantee_principal = {json.dumps(policy_principal(facts))}\n"
        f"  operations        = {json.dumps(operations)}\n"
        "}\n\n"
        'output "grant_token" {\n'
        "  value     = aws_kms_grant.this.grant_token\n"
        "  sensitive = true\n"
        "}"
    )
