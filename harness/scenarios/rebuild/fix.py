"""The rebuilt incident's fix: the diagnosis's own AWS CLI fix, read as a change of the setup or
of the call, so `kmslab run` applies it and checks that the call then works.

The fix text is the only source: what `put-key-policy --policy` puts becomes the key's policy,
`put-role-policy` one more identity policy of the caller, `enable-key` the key's state, a
corrected call (`aws kms decrypt --key-id ... --region ... --encryption-context ...`) the call's
fields, a retry the lifting of the lab controls that stand in for the AWS-side condition. A
command the rebuild cannot read as a setup change is named in `not_rebuilt` instead.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from typing import Any

from harness.scenarios.rebuild.keys import Keys

# The operation a CLI command names, as the scenario's call writes it.
_CALL_COMMANDS = {
    "decrypt": "Decrypt",
    "encrypt": "Encrypt",
    "generate-data-key": "GenerateDataKey",
    "generate-data-key-without-plaintext": "GenerateDataKeyWithoutPlaintext",
    "re-encrypt": "ReEncrypt",
    "describe-key": "DescribeKey",
    "create-grant": "CreateGrant",
}
# Lab controls a retry waits out (the condition clears by itself).
_CONDITIONS = ("throttle", "health_events", "grant_propagation_seconds")


class NotDerived(Exception):
    """The fix cannot be read as a change of the rebuilt setup; the message says why."""


def _options(words: list[str]) -> dict[str, str]:
    """--flag -> its value; a flag that takes a list (--operations A B) gets the words joined."""
    out: dict[str, str] = {}
    flag = ""
    for word in words:
        if word.startswith("--"):
            flag = word
            out[flag] = ""
        elif flag:
            out[flag] = f"{out[flag]} {word}".strip()
    return out


def _json(value: str, flag: str) -> Any:
    if value.startswith("file://"):
        raise NotDerived(f"{flag} is a file the person edits ({value}): no document to apply")
    try:
        return json.loads(value)
    except ValueError as exc:
        raise NotDerived(f"{flag} is not a JSON document") from exc


def _key_name(keys: Keys, ref: str) -> str:
    for name, arn in keys.arns.items():
        if ref in (arn, arn.rsplit("/", 1)[-1]):
            return name
    raise NotDerived(f"the fix names key {ref}, which the rebuilt setup does not hold")


def _context(value: str) -> dict[str, str]:
    pairs = [p.split("=", 1) for p in value.split(",") if "=" in p]
    return {k: v for k, v in pairs}


def fixed_setup_and_call(
    fix: dict[str, Any],
    setup: dict[str, Any],
    call: dict[str, Any],
    keys: Keys,
    caller: set[str],
    vpces: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The setup and call after `fix` (a diagnosis fix's to_dict()), literals as in the bundle;
    `vpces` maps the bundle's VPC endpoint ids to the setup's names. NotDerived when a command
    of the fix is not a change the lab's setup can express."""
    setup = copy.deepcopy(setup)
    call = copy.deepcopy(call)
    changed = False
    for line in str(fix.get("cli") or "").splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise NotDerived(f"the fix line {line!r} is not shell words") from exc
        retry = bool(words) and words[0].startswith("AWS_RETRY_MODE=")
        words = [w for w in words if not re.match(r"^[A-Z_]+=", w)]
        if len(words) < 3 or words[0] != "aws":
            continue  # shell plumbing (read, export, base64, openssl): not a change of AWS
        service, command, opts = words[1], words[2], _options(words[3:])
        if service == "kms" and command in _CALL_COMMANDS and command != "create-grant":
            if _CALL_COMMANDS[command] != call.get("operation") and command != "describe-key":
                raise NotDerived(f"the fix calls {command}, not the incident's {call['operation']}")
            if command == "describe-key":
                continue
            _correct_call(call, opts, setup, caller, keys)
            if retry:
                _lift_conditions(setup)
            changed = True
            continue
        changed |= _change_setup(service, command, opts, setup, call, keys, vpces or {})
    if not changed:
        raise NotDerived("the fix changes nothing the rebuilt setup holds")
    return setup, call


def _correct_call(
    call: dict[str, Any],
    opts: dict[str, str],
    setup: dict[str, Any],
    caller: set[str],
    keys: Keys,
) -> None:
    key = opts.get("--key-id") or opts.get("--source-key-id")
    if key and key != call.get("key"):
        if key not in keys.arns.values() and key not in keys.ids:
            # A key the bundle shows only in a policy or the request is not rebuilt.
            raise NotDerived(f"the fix calls with key {key}, which the rebuilt setup does not hold")
        call["key"] = key
    elif not key and call.get("key"):
        raise NotDerived(
            "the fix leaves KeyId out so that KMS uses the key that encrypted the data, which "
            "the bundle does not show"
        )
    if isinstance(call.get("ciphertext"), dict) and call["ciphertext"].get("damage"):
        # The corrected call sends the bytes KMS returned at encryption, unchanged.
        call["ciphertext"] = {k: v for k, v in call["ciphertext"].items() if k != "damage"}
    if opts.get("--region"):
        call["region"] = opts["--region"]
    context = _context(opts.get("--encryption-context", ""))
    if context or "encryption_context" in call:
        call["encryption_context"] = context
    if "--grant-tokens" in opts:
        mine = [g["name"] for g in setup.get("grants") or [] if g.get("grantee") in caller]
        if not mine:
            raise NotDerived("the fix passes a grant token of a grant the setup does not hold")
        call["grant_tokens"] = mine[:1]


def _lift_conditions(setup: dict[str, Any]) -> None:
    controls = setup.get("controls") or {}
    for name in _CONDITIONS:
        controls.pop(name, None)
    for key in (setup.get("keys") or {}).values():
        if key.get("state") in ("Creating", "Updating"):
            key["state"] = "Enabled"


def _change_setup(
    service: str,
    command: str,
    opts: dict[str, str],
    setup: dict[str, Any],
    call: dict[str, Any],
    keys: Keys,
    vpces: dict[str, str],
) -> bool:
    keyspecs = setup.get("keys") or {}
    if service == "kms" and command == "put-key-policy":
        name = _key_name(keys, opts.get("--key-id", ""))
        keyspecs[name]["policy"] = _json(opts.get("--policy", ""), "--policy")
        return True
    if service == "kms" and command in ("enable-key", "cancel-key-deletion"):
        name = _key_name(keys, opts.get("--key-id", ""))
        keyspecs[name]["state"] = "Enabled" if command == "enable-key" else "Disabled"
        keyspecs[name].pop("deletion_days", None)
        return True
    if service == "kms" and command in ("import-key-material", "connect-custom-key-store"):
        for spec in keyspecs.values():
            if spec.get("state") in ("PendingImport", "Unavailable"):
                spec["state"] = "Enabled"
        return True
    if service == "kms" and command in ("get-parameters-for-import", "list-grants"):
        return False
    if service == "kms" and command == "create-grant":
        name = _key_name(keys, opts.get("--key-id", ""))
        grants = setup.setdefault("grants", [])
        grants.append(
            {
                "name": f"fix_{len(grants) + 1}",
                "key": name,
                "grantee": opts.get("--grantee-principal", ""),
                "operations": opts.get("--operations", "").split(),
            }
        )
        return True
    if service == "kms" and command in ("create-alias", "update-alias"):
        name = _key_name(keys, opts.get("--target-key-id", ""))
        alias = opts.get("--alias-name", "")
        aliases = [a for a in setup.get("aliases") or [] if a.get("name") != alias]
        setup["aliases"] = [*aliases, {"name": alias, "key": name}]
        return True
    if service == "iam" and command in ("put-role-policy", "put-user-policy"):
        entity = opts.get("--role-name") or opts.get("--user-name") or ""
        principal = (setup.get("principals") or {}).get("app") or {}
        if principal.get("name") != entity:
            raise NotDerived(f"the fix changes {entity}, not the caller's identity")
        doc = _json(opts.get("--policy-document", ""), "--policy-document")
        principal["policies"] = _put_policy(list(principal.get("policies") or []), doc)
        return True
    if service == "iam" and command == "create-policy-version":
        # A new default version of a managed policy: the rebuild holds the caller's boundary
        # as its document (the other managed policies are not told apart by ARN).
        principal = (setup.get("principals") or {}).get("app") or {}
        if "boundary" not in principal or "--set-as-default" not in opts:
            raise NotDerived(f"the fix changes managed policy {opts.get('--policy-arn')}")
        principal["boundary"] = _json(opts.get("--policy-document", ""), "--policy-document")
        return True
    if service == "ec2" and command == "modify-vpc-endpoint":
        endpoint = vpces.get(opts.get("--vpc-endpoint-id", ""))
        if endpoint is None or endpoint not in (setup.get("vpc_endpoints") or {}):
            raise NotDerived(f"the fix changes VPC endpoint {opts.get('--vpc-endpoint-id')}")
        setup["vpc_endpoints"][endpoint]["policy"] = _json(
            opts.get("--policy-document", ""), "--policy-document"
        )
        return True
    if service == "sts" and command == "assume-role":
        if "--policy" in opts:
            call["session_policy"] = _json(opts["--policy"], "--policy")
        else:
            call.pop("session_policy", None)
        call.pop("credentials", None)
        return True
    if service == "sts" and command == "get-caller-identity":
        return False
    raise NotDerived(
        f"the fix runs `aws {service} {command}`, which the rebuild does not translate into "
        "a change of the lab setup"
    )


def _sids(doc: Any) -> set[str]:
    items = doc.get("Statement") if isinstance(doc, dict) else None
    items = items if isinstance(items, list) else [items]
    return {str(st["Sid"]) for st in items if isinstance(st, dict) and st.get("Sid")}


def _put_policy(policies: list[Any], doc: dict[str, Any]) -> list[Any]:
    """PutRolePolicy/PutUserPolicy replaces the inline policy of that name: the rebuilt setup
    keeps the documents without their names, so the one it replaces is the one that shares a
    statement id with the new document (the fix edits that policy); otherwise it is new."""
    for i, old in enumerate(policies):
        if _sids(old) & _sids(doc):
            return [*policies[:i], doc, *policies[i + 1 :]]
    new = _statements(doc)
    for i, old in enumerate(policies):
        # Without statement ids: the policy whose statements the fix kept, one of them edited
        # in its resources or conditions (same effect, same actions).
        edited = [st for st in _statements(old) if st not in new]
        same = all(any(_shape(st) == _shape(n) for n in new) for st in edited)
        if len(_statements(old)) == len(new) and len(edited) <= 1 and same:
            return [*policies[:i], doc, *policies[i + 1 :]]
    return [*policies, doc]


def _shape(st: Any) -> Any:
    if not isinstance(st, dict):
        return st
    return (st.get("Effect"), json.dumps(st.get("Action")), json.dumps(st.get("NotAction")))


def _statements(doc: Any) -> list[Any]:
    items = doc.get("Statement") if isinstance(doc, dict) else None
    return items if isinstance(items, list) else [items]


def merge_patch(before: Any, after: Any) -> Any:
    """The JSON merge patch (RFC 7396) that turns `before` into `after`."""
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return copy.deepcopy(after)
    out: dict[str, Any] = {}
    for k in before.keys() | after.keys():
        if k not in after:
            out[k] = None
        elif k not in before:
            out[k] = copy.deepcopy(after[k])
        elif before[k] != after[k]:
            out[k] = merge_patch(before[k], after[k])
    return out
