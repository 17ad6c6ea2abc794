"""`--redact`: pseudonymise account ids, ARNs' names, IAM/KMS/log names, key ids, session
names, IAM unique ids and access key ids, consistently.

The same real value always becomes the same pseudonym within a bundle, so the bundle still
diagnoses the same way (a principal that matched the key policy still matches). Names are
replaced only where they are known to be names (inside ARNs and in name fields), never as
free text, so a role called "kms" cannot corrupt "kms:Decrypt". JSON held in strings (key
policies, CloudTrail events, log lines) is parsed and redacted inside.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

from harness.aws import arns

_ACCOUNT = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_NAME_CHARS = r"[A-Za-z0-9_+=,.@-]+"
# IAM/STS resource ARNs: kind, optional path, name (and for sessions, the session name).
_IAM_ARN = re.compile(
    r"(arn:aws[a-z-]*:(?:iam|sts)::[0-9]{12}:)"
    r"(role|user|group|policy|instance-profile|assumed-role|federated-user)"
    r"((?:/" + _NAME_CHARS + r")+)"
)
_ALIAS = re.compile(r"(?<![A-Za-z0-9_/-])alias/(" + r"[A-Za-z0-9/_-]+" + r")")
_LOG_GROUP = re.compile(r"(:log-group:)([A-Za-z0-9_./#-]+)")
_TRAIL = re.compile(r"(:trail/)([A-Za-z0-9_.-]+)")
# Key ids: a UUID, or mrk- and 32 hex digits for multi-Region keys (API_CreateKey.html).
_KEY_ID = re.compile(rf"(?<![A-Za-z0-9-])({arns.KEY_ID_PATTERN})(?![A-Za-z0-9-])")
# IAM unique ids and access key ids by their documented prefixes (reference_identifiers.html).
_UNIQUE_ID = re.compile(
    rf"(?<![A-Za-z0-9])({'|'.join(arns.UNIQUE_ID_PREFIXES)})([A-Z0-9]{{12,}})"
    r"(?![A-Za-z0-9])"
)
_ORG_IDS = re.compile(r"\b(o-[a-z0-9]{10,32}|ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})\b")

# Fields whose whole value is a name of this kind.
NAME_FIELDS: dict[str, str] = {
    "RoleName": "role",
    "UserName": "user",
    "userName": "user",
    "GroupName": "group",
    "PolicyName": "policy",
    "PolicyNames": "policy",
    "AliasName": "alias",
    "roleSessionName": "session",
    "RoleSessionName": "session",
    "logGroupName": "loggroup",
    "LogGroupName": "loggroup",
    "TrailName": "trail",
}
# Fields whose value is a name only sometimes (a lookup value, a trail's Name): replaced
# when, and only when, the whole value is a name already seen elsewhere.
MAYBE_NAME_FIELDS = frozenset({"AttributeValue", "Username", "Name", "sessionName"})
# Values that are names in AWS's namespace, not the customer's.
KEEP = frozenset({"default", "aws", "AWS"})


class Pseudonyms:
    def __init__(self) -> None:
        self.accounts: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.other: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._taken: set[str] = set()

    def account(self, real: str) -> str:
        if real not in self.accounts:
            n = 100000000000 + len(self.accounts) + 1
            while str(n) in self._taken:
                n += 1
            self.accounts[real] = str(n)
            self._taken.add(str(n))
        return self.accounts[real]

    def name(self, real: str, kind: str) -> str:
        if real in KEEP or real.startswith("aws/") or real.startswith("aws-"):
            return real
        if real not in self.names:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self.names[real] = f"{kind}-{self._counts[kind]}"
        return self.names[real]

    def key_id(self, real: str) -> str:
        """A key id of the same shape; its last group ends in a letter so that no run of 12
        digits in it can be taken for an account id."""
        if real not in self.other:
            n = len(self.other) + 1
            if real.startswith("mrk-"):
                self.other[real] = f"mrk-{n:031d}f"
            else:
                self.other[real] = f"00000000-0000-4000-8000-{n:011d}f"
        return self.other[real]

    def unique_id(self, prefix: str, real: str) -> str:
        """Same prefix (it tells role from user from access key), letters after it."""
        key = prefix + real
        if key not in self.other:
            n, letters = len(self.other) + 1, ""
            while n:
                n, digit = divmod(n - 1, 26)
                letters = chr(ord("A") + digit) + letters
            self.other[key] = f"{prefix}KMSLABREDACTED{letters:A>6}"
        return self.other[key]

    def opaque(self, real: str, prefix: str) -> str:
        if real not in self.other:
            self.other[real] = f"{prefix}{len(self.other) + 1:010d}"
        return self.other[real]


def redact_bundle(bundle: dict[str, Any]) -> dict[str, Any]:
    """A redacted deep copy of `bundle`; the input is not changed."""
    names = Pseudonyms()
    # Real account ids are reserved first so that no pseudonym collides with one.
    _walk(copy.deepcopy(bundle), lambda text, _field: _reserve(text, names))
    for real in sorted(names._taken.copy()):
        names.account(real)
    # Twice: the first pass learns every name, the second also replaces maybe-name fields.
    _walk(copy.deepcopy(bundle), lambda text, field: _redact(text, field, names))
    out = _walk(copy.deepcopy(bundle), lambda text, field: _redact(text, field, names))
    assert isinstance(out, dict)
    out["redacted"] = True
    return out


def _reserve(text: str, names: Pseudonyms) -> str:
    names._taken.update(_ACCOUNT.findall(text))
    return text


def _redact(text: str, field: str | None, names: Pseudonyms) -> str:
    if field == "Path" and text.startswith("/") and text.endswith("/"):
        segments = [names.name(p, "path") for p in text.strip("/").split("/") if p]
        return "/" + "".join(f"{p}/" for p in segments)
    if field in MAYBE_NAME_FIELDS and text in names.names:
        return names.names[text]
    if field in NAME_FIELDS and re.fullmatch(_NAME_CHARS + r"(?:/" + _NAME_CHARS + ")*", text):
        if field == "AliasName" and text.startswith("alias/"):
            return "alias/" + names.name(text[len("alias/") :], "alias")
        return names.name(text, NAME_FIELDS[field])

    def iam_arn(match: re.Match[str]) -> str:
        head, kind, rest = match.groups()
        parts = rest.strip("/").split("/")
        if kind == "assumed-role" and len(parts) >= 2:
            new = [names.name(parts[0], "role"), *(names.name(p, "session") for p in parts[1:])]
        else:
            label = "role" if kind == "instance-profile" else kind
            new = [names.name(p, "path") for p in parts[:-1]] + [names.name(parts[-1], label)]
        return head + kind + "/" + "/".join(new)

    text = _IAM_ARN.sub(iam_arn, text)
    text = _ALIAS.sub(lambda m: "alias/" + names.name(m.group(1), "alias"), text)
    text = _LOG_GROUP.sub(lambda m: m.group(1) + names.name(m.group(2), "loggroup"), text)
    text = _TRAIL.sub(lambda m: m.group(1) + names.name(m.group(2), "trail"), text)
    text = _ORG_IDS.sub(lambda m: _org_id(m.group(1), names), text)
    text = _EMAIL.sub("redacted@example.invalid", text)
    text = _KEY_ID.sub(lambda m: names.key_id(m.group(1)), text)
    text = _UNIQUE_ID.sub(lambda m: names.unique_id(m.group(1), m.group(2)), text)
    text = _ACCOUNT.sub(lambda m: names.account(m.group(0)), text)
    if ":" in text and re.fullmatch(r"A[A-Z]{3}[A-Z0-9]+:" + _NAME_CHARS, text):
        # AROA...:session — the session name after the colon.
        unique, _, session = text.partition(":")
        text = f"{unique}:{names.name(session, 'session')}"
    return text


def _org_id(real: str, names: Pseudonyms) -> str:
    prefix = real.split("-", 1)[0] + "-"
    return names.opaque(real, prefix + ("x" if prefix == "r-" else "")).lower()


def _walk(value: Any, fn: Callable[[str, str | None], str], field: str | None = None) -> Any:
    if isinstance(value, dict):
        return {
            _walk_key(k, fn): _walk(v, fn, k if isinstance(k, str) else None)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_walk(v, fn, field) for v in value]
    if isinstance(value, str):
        embedded = _embedded_json(value)
        if embedded is not None:
            return json.dumps(_walk(embedded, fn), separators=(",", ":"))
        return fn(value, field)
    return value


def _walk_key(key: Any, fn: Callable[[str, str | None], str]) -> Any:
    return fn(key, None) if isinstance(key, str) else key


def _embedded_json(text: str) -> Any:
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None
