"""The one parser of ARNs, principal ARNs, account ids, key ids and unique ids.

Shapes from the IAM User Guide (reference-arns.html, reference_identifiers.html and
reference_policies_elements_principal.html). Parsing never raises: a value that is no ARN gives
None (`parse`) or a principal of kind "other" (`principal`); each caller says in its own words why
it refuses one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

# The partitions AWS has (botocore's partitions.json; tests/aws checks it).
PARTITIONS = frozenset(
    {"aws", "aws-cn", "aws-eusc", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-us-gov"}
)

_ARN = re.compile(
    r"^arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.*)$"
)
_ACCOUNT = re.compile(r"^\d{12}$")
# A key id: a UUID, or mrk- and 32 hex digits for a multi-Region key (API_CreateKey.html).
KEY_ID_PATTERN = r"mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_KEY_ID = re.compile(rf"^({KEY_ID_PATTERN})$")
_PARTITION_SYNTAX = re.compile(r"^aws[a-z-]*$")
_SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$")

# Unique id prefixes and what they identify (reference_identifiers.html#identifiers-prefixes).
UNIQUE_ID_PREFIXES = {
    "AROA": "role",
    "AIDA": "user",
    "AGPA": "group",
    "ANPA": "managed-policy",
    "ANVA": "managed-policy-version",
    "AKIA": "access-key",
    "ASIA": "temporary-access-key",
    "APKA": "public-key",
    "AIPA": "instance-profile",
    "ACCA": "context-specific-credential",
    "ABIA": "service-bearer-token",
    "ASCA": "certificate",
}
_UNIQUE_ID = re.compile(r"^(" + "|".join(UNIQUE_ID_PREFIXES) + r")[A-Z0-9]{8,}$")

PrincipalKind = Literal[
    "root", "role", "user", "assumed-role", "federated-user", "service", "unique-id", "other"
]


@dataclass(frozen=True)
class Arn:
    """`arn:partition:service:region:account:resource`, split."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def resource_type(self) -> str:
        return self.resource.split("/", 1)[0].split(":", 1)[0]

    @property
    def resource_id(self) -> str:
        if "/" in self.resource:
            return self.resource.split("/", 1)[1]
        return self.resource.split(":", 1)[1] if ":" in self.resource else self.resource


def parse(text: str | None) -> Arn | None:
    """The parts of an ARN; None for anything that is not one."""
    if not text or not isinstance(text, str):
        return None
    m = _ARN.match(text)
    return Arn(**m.groupdict()) if m else None


def account_root(account: str, partition: str = "aws") -> str:
    """The account principal's ARN ("arn:aws:iam::111122223333:root"), which stands for the
    account and delegates to its IAM policies (reference_policies_elements_principal.html)."""
    return f"arn:{partition}:iam::{account}:root"


def is_account_id(text: str) -> bool:
    return bool(_ACCOUNT.match(text))


def is_key_id(text: str) -> bool:
    return bool(_KEY_ID.match(text))


def is_service_principal(text: str) -> bool:
    return bool(_SERVICE_PRINCIPAL.match(text))


def unique_id_kind(text: str) -> str | None:
    """What a unique id (AROA..., AIDA...) identifies; None when `text` is not one."""
    return UNIQUE_ID_PREFIXES[text[:4]] if _UNIQUE_ID.match(text) else None


def account_of(text: str | None) -> str | None:
    if text and is_account_id(text):
        return text
    arn = parse(text)
    return arn.account or None if arn else None


def region_of(text: str | None) -> str | None:
    arn = parse(text)
    return arn.region or None if arn else None


# KMS key and alias ARNs (kms concepts.html#key-id-key-ARN, #key-id-alias-ARN); the key pattern
# also finds key ARNs inside error messages.
KMS_KEY_ARN_PATTERN = r"arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key/([A-Za-z0-9-]+)"
KMS_KEY_ARN = re.compile(rf"^{KMS_KEY_ARN_PATTERN}$")
KMS_ALIAS_ARN = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(alias/.+)$")


def kms_arn(text: str | None) -> Arn | None:
    """A KMS key or alias ARN (`resource_type` "key" or "alias"); None for anything else."""
    arn = parse(text)
    if (
        arn is None
        or arn.service != "kms"
        or not is_account_id(arn.account)
        or arn.resource_type not in ("key", "alias")
        or not arn.resource.startswith(arn.resource_type + "/")
        or not arn.resource_id
    ):
        return None
    return arn


def iam_principal_arn(text: str) -> Arn | None:
    """An IAM or STS ARN in a partition AWS has, with no region and a 12-digit account: the
    syntax of every principal ARN (reference_policies_elements_principal.html)."""
    arn = parse(text)
    if (
        arn is None
        or arn.partition not in PARTITIONS
        or arn.service not in ("iam", "sts")
        or arn.region
        or not is_account_id(arn.account)
        or not arn.resource
    ):
        return None
    return arn


@dataclass(frozen=True)
class PrincipalArn:
    """Who a principal value names. `arn` is the value as given; `kind` says which principal:
    the account (root), a role, a user, a role session (assumed-role), a federated user, an
    AWS service, a deleted principal's unique id, or other (not recognised)."""

    arn: str
    account: str
    kind: PrincipalKind
    name: str = ""  # role, user or federated user name without its path; root: "root"
    session: str = ""  # the role session name of an assumed-role ARN
    path: str = "/"  # a role's or user's path
    partition: str = "aws"

    @property
    def role_name(self) -> str | None:
        return self.name if self.kind in ("role", "assumed-role") else None

    @property
    def user_name(self) -> str | None:
        return self.name if self.kind == "user" else None

    @property
    def role_arn(self) -> str | None:
        """The IAM role ARN behind a session (its path is not in the session ARN) or a role."""
        if self.kind == "assumed-role":
            return f"arn:{self.partition}:iam::{self.account}:role/{self.name}"
        if self.kind == "role":
            return self.arn
        return None


@lru_cache(maxsize=8192)
def principal(text: str) -> PrincipalArn:
    """The principal a value names: an IAM or STS ARN, a bare account id, a service principal
    or a unique id. Never raises."""
    if is_account_id(text):
        return PrincipalArn(text, text, "root", "root")
    if is_service_principal(text):
        return PrincipalArn(text, "", "service", text)
    if unique_id_kind(text):
        return PrincipalArn(text, "", "unique-id", text)
    arn = parse(text)
    if (
        arn is None
        or not _PARTITION_SYNTAX.match(arn.partition)
        or arn.service not in ("iam", "sts")
        or not is_account_id(arn.account)
    ):
        return PrincipalArn(
            text, arn.account if arn else "", "other", arn.resource if arn else text
        )
    account, partition, res = arn.account, arn.partition, arn.resource
    if arn.service == "iam" and res == "root":
        return PrincipalArn(text, account, "root", "root", partition=partition)
    parts = res.split("/")
    if arn.service == "sts" and parts[0] == "assumed-role":
        if len(parts) == 3 and parts[1] and parts[2]:
            return PrincipalArn(
                text, account, "assumed-role", parts[1], session=parts[2], partition=partition
            )
    elif arn.service == "sts" and parts[0] == "federated-user" and len(parts) == 2 and parts[1]:
        return PrincipalArn(text, account, "federated-user", parts[1], partition=partition)
    elif arn.service == "iam" and parts[0] in ("role", "user") and len(parts) >= 2 and parts[-1]:
        path = "/" + "/".join(parts[1:-1]) + "/" if len(parts) > 2 else "/"
        kind: PrincipalKind = "role" if parts[0] == "role" else "user"
        return PrincipalArn(text, account, kind, parts[-1], path=path, partition=partition)
    return PrincipalArn(text, account, "other", res, partition=partition)
