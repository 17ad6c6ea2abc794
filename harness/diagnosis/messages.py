"""What AWS's own error text says (catalog section 3 and the message-text signals of section 6).

IAM's AccessDenied format (IAM troubleshoot_access-denied.html):
``User: <arn> is not authorized to perform: <action> on resource: <arn> because no <type> policy
allows the <action> action`` or ``... with an explicit deny in a <type> policy``. The clause is
optional (older messages and service wrappers omit it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.aws.codes import RETRYABLE_KMS_CODES
from harness.aws.errors import KEY_STATE_WORDS, InvalidArnNotFound, KmsAccessDenied, NotFound

# Phrase -> evaluator layer (contract section 2 layer names). Longest phrases first.
_LAYER_PHRASES: tuple[tuple[str, str], ...] = (
    ("vpc endpoint policy transitively through a service control policy", "scp"),
    ("resource-based policy", "key-policy"),
    ("identity-based policy", "identity"),
    ("permissions boundary", "permissions-boundary"),
    ("sessions policy", "session"),
    ("session policy", "session"),
    ("service control policy", "scp"),
    ("resource control policy", "rcp"),
    ("vpc endpoint policy", "vpc-endpoint"),
)

# The text AWS gives for a ciphertext whose key it will not name (its first clause).
_AMBIGUOUS = KmsAccessDenied.TEMPLATE.split(",")[0].lower()
_INVALID_ARN = InvalidArnNotFound.TEMPLATE.split("{")[0].strip().lower()
_USER = re.compile(r"User: (\S+) is not authorized to perform: (\S+)", re.IGNORECASE)
_RESOURCE = re.compile(r"on resource: (arn:\S+?)(?: because| with|$|\s)", re.IGNORECASE)
_KEY_NOT_FOUND = re.compile(r"Key '?(arn:aws[\w-]*:kms:[^' ]+)'? does not exist", re.IGNORECASE)
_ALIAS_NOT_FOUND = re.compile(r"Alias (arn:aws[\w-]*:kms:\S+?) is not found", re.IGNORECASE)

# "<arn> is <state words>." (KMSInvalidStateException, DisabledException), longest words first.
STATE_PHRASES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        ((f"is {words}", state) for state, words in KEY_STATE_WORDS.items()),
        key=lambda p: -len(p[0]),
    )
)

RETRYABLE = RETRYABLE_KMS_CODES  # the name the rules and the ranking use


@dataclass(frozen=True)
class Signal:
    code: str
    message: str
    denied: bool = False
    explicit: bool | None = None  # None: the message has no because/with clause
    layer: str | None = None
    ambiguous: bool = False
    principal: str = ""
    action: str = ""
    resource: str = ""
    state: str | None = None
    not_found_arn: str = ""
    invalid_arn: bool = False

    def describe(self) -> str:
        text = self.message or "(empty message)"
        return f"{self.code}: {text}"


def is_denied(code: str) -> bool:
    return code in {"AccessDeniedException", "AccessDenied", "403", "VpceAccessDenied"}


def parse(code: str, message: str) -> Signal:
    low = message.lower()
    denied = is_denied(code) or _AMBIGUOUS in low
    explicit: bool | None = None
    layer = None
    if denied:
        if "explicit deny" in low:
            explicit = True
        elif " because no " in low:
            explicit = False
        for phrase, name in _LAYER_PHRASES:
            if phrase in low:
                layer = name
                break
        if code == "VpceAccessDenied" or "denied due to a vpc endpoint policy" in low:
            layer = "vpc-endpoint"
    m = _USER.search(message)
    r = _RESOURCE.search(message)
    state = next((s for phrase, s in STATE_PHRASES if phrase in low), None)
    if code not in {"DisabledException", "KMSInvalidStateException"}:
        state = None
    nf = _KEY_NOT_FOUND.search(message) or _ALIAS_NOT_FOUND.search(message)
    return Signal(
        code=code,
        message=message,
        denied=denied,
        explicit=explicit,
        layer=layer,
        ambiguous=_AMBIGUOUS in low,
        principal=m.group(1) if m else "",
        action=m.group(2) if m else "",
        resource=r.group(1) if r else "",
        state=state,
        not_found_arn=nf.group(1) if nf else "",
        invalid_arn=code == NotFound.CODE and _INVALID_ARN in low,
    )
