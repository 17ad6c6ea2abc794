"""Every principal the bundle names, rebuilt so the lab accepts the policies AWS accepted.

AWS validates the principals of a key policy and of a grant when they are written
(API_PutKeyPolicy.html: "Policy contains a statement with one or more invalid principals"),
so each role or user a policy names must exist in the rebuilt lab, in its own account and
path. Account principals need only the account; AWS service principals stay literal.
A bare unique id (AROA.../AIDA...) in a Principal is what AWS shows for a role or user that
was deleted after the policy named it (reference_policies_elements_principal.html): it is
rebuilt the way the catalog builds one, as a principal that is named by the policy and then
deleted and recreated (`recreated: true`), which leaves its old unique id behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness.aws import arns
from harness.errors import UsageError
from harness.scenarios.rebuild.evidence import aws_principals, statements
from harness.scenarios.rebuild.names import Renamer, logical

# The characters IAM allows in role, user and session names and path segments (API_CreateRole.html).
_PLAIN = re.compile(r"^[A-Za-z0-9+=,.@_-]+$")
# The scenario schema's limits on a principal's name and path.
NAME_OK = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,40}$")
PATH_OK = re.compile(r"^/([A-Za-z0-9_.-]+/)*$")


@dataclass
class IncidentCaller:
    """The principal of the incident, as the rebuilt lab calls: a role (or its session) or a user."""

    arn: str
    account: str
    kind: str  # role | user
    name: str
    path: str
    session: str | None


def _buildable(who: arns.PrincipalArn) -> bool:
    """A role, user or role session whose names the lab can create."""
    if who.kind not in ("role", "user", "assumed-role"):
        return False
    segments = [who.name, *(who.path.strip("/").split("/") if who.path != "/" else [])]
    if who.kind == "assumed-role":
        segments.append(who.session)
    return all(_PLAIN.match(segment) for segment in segments)


def parse_caller(arn: str) -> IncidentCaller:
    who = arns.principal(arn)
    if _buildable(who) and who.kind == "assumed-role":
        return IncidentCaller(arn, who.account, "role", who.name, "/", who.session)
    if _buildable(who):
        return IncidentCaller(arn, who.account, who.kind, who.name, who.path, None)
    raise UsageError(
        f"the bundle's principal {arn!r} cannot be rebuilt: the lab calls as a role, a role "
        "session or an IAM user"
    )


@dataclass
class Book:
    """Accounts and principals of the rebuilt setup, and how literals become references."""

    caller: IncidentCaller
    key_account: str
    accounts: dict[str, str] = field(default_factory=dict)  # logical -> id
    principals: dict[str, dict[str, Any]] = field(default_factory=dict)
    rename: Renamer = field(default_factory=Renamer)
    not_rebuilt: list[dict[str, str]] = field(default_factory=list)
    _by_arn: dict[str, str] = field(default_factory=dict)
    _names: set[str] = field(default_factory=set)
    _orphans: dict[str, str] = field(default_factory=dict)
    # unique id -> the ARN that CloudTrail's copy of the same policy shows in its place
    deleted: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.account(self.caller.account, "app")
        if self.key_account != self.caller.account:
            self.account(self.key_account, "owner")
        self._names.update({"app", "investigator"})
        arn = self._arn(self.caller.account, self.caller.kind, self.caller.path, self.caller.name)
        self._add(
            "app", arn, self.caller.account, self.caller.kind, self.caller.path, self.caller.name
        )

    def gap(self, what: str, reason: str) -> None:
        item = {"what": what, "reason": reason}
        if item not in self.not_rebuilt:
            self.not_rebuilt.append(item)

    # -- accounts -----------------------------------------------------------------------

    def account(self, account_id: str, wanted: str | None = None) -> str:
        for name, known in self.accounts.items():
            if known == account_id:
                return name
        taken = set(self.accounts)
        name = wanted if wanted and wanted not in taken else logical(f"other_{len(taken)}", taken)
        self.accounts[name] = account_id
        self.rename.add(account_id, "${account." + name + "}")
        return name

    # -- principals ---------------------------------------------------------------------

    @staticmethod
    def _arn(account: str, kind: str, path: str, name: str) -> str:
        return f"arn:aws:iam::{account}:{kind}{path}{name}"

    def _add(
        self, logical_name: str, arn: str, account: str, kind: str, path: str, name: str
    ) -> None:
        spec: dict[str, Any] = {"type": kind, "account": self.account(account), "name": name}
        if path != "/":
            spec["path"] = path
        self.principals[logical_name] = spec
        self._by_arn[arn] = logical_name
        self.rename.add(arn, "${principal." + logical_name + ".arn}")

    def entity(self, account: str, kind: str, path: str, name: str, where: str) -> str | None:
        arn = self._arn(account, kind, path, name)
        if arn in self._by_arn:
            return self._by_arn[arn]
        if not NAME_OK.match(name) or not PATH_OK.match(path):
            self.gap(arn, f"named in {where}; its name or path is outside what the lab builds")
            return None
        logical_name = logical(name, self._names)
        self._add(logical_name, arn, account, kind, path, name)
        return logical_name

    def value(self, value: str, where: str) -> None:
        """Make sure an AWS principal value a policy or grant names can be rebuilt."""
        if value == "*":
            return
        who = arns.principal(value)
        if who.kind == "root":
            self.account(who.account)
            return
        if _buildable(who) and who.kind in ("role", "user"):
            self.entity(who.account, who.kind, who.path, who.name, where)
            return
        if _buildable(who):  # a role session
            logical_name = self.entity(who.account, "role", "/", who.name, where)
            if logical_name:
                self.rename.add(
                    value,
                    f"arn:aws:sts::${{account.{self.account(who.account)}}}:assumed-role/"
                    f"${{principal.{logical_name}.name}}/{who.session}",
                )
            return
        if arns.unique_id_kind(value) in ("role", "user"):
            self.orphan(value, where)
            return
        self.gap(f"principal {value}", f"named in {where}; not a principal the lab can build")

    def orphan(self, unique_id: str, where: str) -> str:
        """A principal that the policy named and that was then deleted (see module doc)."""
        if unique_id in self._orphans:
            return self._orphans[unique_id]
        named = self.deleted.get(unique_id)
        entity = arns.principal(named or "")
        if _buildable(entity) and entity.kind in ("role", "user"):
            # CloudTrail's copy of the policy names the principal that stood there.
            logical_name = self.entity(entity.account, entity.kind, entity.path, entity.name, where)
            if logical_name:
                self.principals[logical_name]["recreated"] = True
                self._orphans[unique_id] = logical_name
                self.gap(
                    f"unique id {unique_id} in {where}",
                    f"CloudTrail's copy of the policy shows it was {named}; rebuilt as that "
                    "principal, deleted and recreated after the policy named it",
                )
                return logical_name
        kind = "role" if arns.unique_id_kind(unique_id) == "role" else "user"
        n = len(self._orphans) + 1
        logical_name = logical(f"orphaned_{kind}_{n}", self._names)
        name = f"kmslab-orphaned-{kind}-{n}"
        arn = self._arn(self.key_account, kind, "/", name)
        self._add(logical_name, arn, self.key_account, kind, "/", name)
        self.principals[logical_name]["recreated"] = True
        self._orphans[unique_id] = logical_name
        self.gap(
            f"unique id {unique_id} in {where}",
            "the name of the deleted principal is unknown; rebuilt as an orphaned "
            f"{kind} ({name}) whose new unique id the lab assigns",
        )
        return logical_name

    def principal_values(self, doc: dict[str, Any] | None, where: str) -> None:
        for st in statements(doc):
            for kind, value in aws_principals(st):
                if kind == "AWS":
                    self.value(value, where)
                elif kind != "Service":
                    self.gap(f"{kind} principal {value}", f"named in {where}; kept as written")

    def with_orphans(self, doc: dict[str, Any]) -> dict[str, Any]:
        """`doc` with every orphaned unique id in a Principal replaced by its stand-in's ARN."""
        out = dict(doc)
        items = []
        for st in statements(doc):
            st = dict(st)
            for field_name in ("Principal", "NotPrincipal"):
                principal = st.get(field_name)
                if not isinstance(principal, dict) or "AWS" not in principal:
                    continue
                values = principal["AWS"]
                as_list = values if isinstance(values, list) else [values]
                swapped = [
                    "${principal." + self._orphans[v] + ".arn}" if v in self._orphans else v
                    for v in as_list
                ]
                st[field_name] = {
                    **principal,
                    "AWS": swapped if isinstance(values, list) else swapped[0],
                }
            items.append(st)
        if items:
            out["Statement"] = items if isinstance(doc.get("Statement"), list) else items[0]
        return out


def entity_arn(book: Book) -> str:
    c = book.caller
    return f"arn:aws:iam::{c.account}:{c.kind}{c.path}{c.name}"
