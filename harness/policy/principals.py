"""Who is calling, and whether a policy's Principal element names them.

Principal forms and their meaning: IAM User Guide reference_policies_elements_principal.html.
A role ARN in a resource policy covers every session of the role; a role-session ARN covers only
that session; a unique id (AROA..., AIDA...) left behind by a deleted principal matches nothing
that exists now (principal-roles, "If you delete the role ... the principal ID").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from harness.aws import arns
from harness.policy.errors import PolicyError

# How a Principal value matched the caller. The kind decides which implicit denies still apply
# (reference_policies_evaluation-logic.html, "Resource-based policies and implicit denies").
NONE = ""
ACCOUNT = "account"  # the caller's account (root ARN or bare id): delegates to IAM policies
ROLE = "role"  # the role whose session calls
SESSION = "session"  # the exact assumed-role session
USER = "user"  # the exact IAM user
FEDERATED_USER = "federated-user"  # the exact GetFederationToken session
WILDCARD = "wildcard"  # "*" or {"AWS": "*"}
SERVICE = "service"  # a service principal
ROOT = "root"  # the caller is the account root user and the account is named


@dataclass(frozen=True)
class PolicyCaller:
    arn: str
    kind: str  # "session" | "user" | "federated-user" | "role" | "root" | "service"
    account: str  # "" for services
    partition: str = "aws"
    name: str = ""  # user name, role name, federated user name, service name
    session: str = ""
    path: str = "/"

    @property
    def role_arn(self) -> str:
        """For a role session without a known path; callers may override via aws:PrincipalArn."""
        return f"arn:{self.partition}:iam::{self.account}:role/{self.name}"

    @property
    def principal_arn(self) -> str:
        """aws:PrincipalArn (reference_policies_condition-keys.html#condition-keys-principalarn)."""
        if self.kind == "session":
            return self.role_arn
        return self.arn

    @property
    def principal_type(self) -> str:
        return {
            "session": "AssumedRole",
            "user": "User",
            "federated-user": "FederatedUser",
            "role": "AssumedRole",
            "root": "Account",
            "service": "Service",
        }[self.kind]

    @property
    def is_session(self) -> bool:
        return self.kind in ("session", "federated-user")


@lru_cache(maxsize=4096)
def parse_caller(arn: str) -> PolicyCaller:
    """The request principal. Raises PolicyError for anything that is not a principal ARN."""
    if not isinstance(arn, str) or not arn:
        raise PolicyError("request.principal must be a principal ARN", field="request.principal")
    who = arns.principal(arn)
    if who.kind == "service":
        return PolicyCaller(arn=arn, kind="service", account="", name=arn)
    if arns.is_account_id(arn):
        return PolicyCaller(arn=arns.account_root(arn), kind="root", account=arn)
    syntax = arns.iam_principal_arn(arn)
    if syntax is None:
        raise PolicyError(
            f"{arn!r} is not an IAM/STS principal ARN or a service principal",
            field="request.principal",
        )
    account, partition = syntax.account, syntax.partition
    if who.kind == "root":
        return PolicyCaller(arn=arn, kind="root", account=account, partition=partition)
    if who.kind == "assumed-role":
        return PolicyCaller(
            arn=arn,
            kind="session",
            account=account,
            partition=partition,
            name=who.name,
            session=who.session,
        )
    if syntax.service == "sts" and syntax.resource.startswith("assumed-role/"):
        raise PolicyError(f"malformed assumed-role ARN {arn!r}", field="request.principal")
    if who.kind in ("federated-user", "role", "user"):
        return PolicyCaller(
            arn=arn,
            kind=who.kind,
            account=account,
            partition=partition,
            name=who.name,
            path=who.path,
        )
    raise PolicyError(f"unsupported principal ARN {arn!r}", field="request.principal")


@lru_cache(maxsize=8192)
def match_aws_value(value: str, caller: PolicyCaller, negated: bool = False) -> tuple[str, str]:
    """How one `AWS` principal value names the caller: (kind, reason). kind NONE: no match.

    `negated` is for NotPrincipal, which exempts only the principals it names
    (reference_policies_elements_notprincipal.html: "explicitly denied to all principals except
    for the ones specified"): a role ARN does not exempt the role's sessions, and an account ARN
    exempts the account principal (its root user) but not the account's roles, users or sessions,
    which is why the page's examples list the user, role and session ARNs beside the account's.
    """
    if value == "*":
        return WILDCARD, "'*' names every AWS principal"
    if arns.unique_id_kind(value):
        return (
            NONE,
            f"{value} is a unique id of a principal that was deleted; it names no current principal",
        )
    if arns.is_account_id(value):
        value = arns.account_root(value)
    parsed = arns.iam_principal_arn(value)
    if parsed is None:
        return NONE, f"{value!r} is not a principal ARN"
    partition, service, account, rest = (
        parsed.partition, parsed.service, parsed.account, parsed.resource
    )  # fmt: skip
    if caller.kind == "service":
        return NONE, f"{value} is an AWS principal; the caller is the service {caller.arn}"
    if account != caller.account or partition != caller.partition:
        return NONE, f"account {account} is not the caller's account {caller.account}"
    if service == "iam" and rest == "root":
        if caller.kind == "root":
            return ROOT, "names the caller's account, and the caller is its root user"
        if negated:
            return NONE, (
                f"names the account {account} principal; NotPrincipal does not exempt the "
                f"account's roles, users or sessions unless they are listed too"
            )
        return ACCOUNT, "names the caller's account: IAM policies of the account decide"
    if "*" in rest or "?" in rest:
        return NONE, f"{value}: wildcards are not allowed in a principal ARN"
    if service == "sts" and rest.startswith("assumed-role/"):
        if caller.kind == "session" and value == caller.arn:
            return SESSION, "names this role session"
        if caller.kind == "session":
            return NONE, (
                f"names the session {rest.split('/')[-1]!r} of role "
                f"{rest.split('/')[1] if rest.count('/') >= 2 else '?'}; "
                f"the caller is session {caller.session!r} of role {caller.name}"
            )
        return NONE, "names a role session; the caller is not that session"
    if service == "sts" and rest.startswith("federated-user/"):
        if caller.kind == "federated-user" and value == caller.arn:
            return FEDERATED_USER, "names this federated user"
        return NONE, "names a different federated user"
    if service == "iam" and rest.startswith("role/"):
        role_name = rest.rsplit("/", 1)[-1]
        if caller.kind == "session" and role_name == caller.name:
            if negated:
                return NONE, "a role ARN in NotPrincipal does not cover the role's sessions"
            return ROLE, f"names role {role_name}, whose session is calling"
        if caller.kind == "role" and role_name == caller.name:
            return ROLE, f"names role {role_name}"
        return NONE, f"names role {role_name}; the caller is {caller.arn}"
    if service == "iam" and rest.startswith("user/"):
        if caller.kind == "user" and value == caller.arn:
            return USER, "names this IAM user"
        return NONE, f"names {value}; the caller is {caller.arn}"
    return NONE, f"{value} does not name the caller"


def match_service_value(value: str, caller: PolicyCaller) -> tuple[str, str]:
    if value == "*":
        return WILDCARD, "'*' service"
    if caller.kind == "service" and value.lower() == caller.arn.lower():
        return SERVICE, f"names the service {value}"
    return NONE, f"names the service {value}; the caller is {caller.arn}"
