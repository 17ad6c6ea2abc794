"""What the lab reads from the upstream's IAM (as the owning account's operator), cached.

All IAM mutations pass through the lab, so the cache is dropped on each of them; a
generation counter keeps a read that raced a mutation from being cached.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import unquote

import botocore.exceptions

from harness.aws import arns
from harness.lab.upstream import Upstream

READ_PREFIXES = ("Get", "List", "Simulate", "Generate")


def _doc(value: Any) -> Any:
    if isinstance(value, str):
        import json

        try:
            return json.loads(unquote(value))
        except ValueError:
            return value
    return value


def _missing(exc: botocore.exceptions.ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in (
        "NoSuchEntity",
        "NoSuchEntityException",
        "404",
    )


class IamView:
    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self._cache: dict[tuple[str, ...], Any] = {}
        self._lock = threading.Lock()
        self._generation = 0

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()
            self._generation += 1

    def _cached(self, key: tuple[str, ...], load: Any) -> Any:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            generation = self._generation
        value = load()
        with self._lock:
            if generation == self._generation:
                self._cache[key] = value
        return value

    def iam(self, account: str) -> Any:
        return self.upstream.client("iam", account)

    def role(self, account: str, name: str) -> dict[str, Any] | None:
        def load() -> dict[str, Any] | None:
            try:
                return dict(self.iam(account).get_role(RoleName=name)["Role"])
            except botocore.exceptions.ClientError as exc:
                if _missing(exc):
                    return None
                raise

        result: dict[str, Any] | None = self._cached(("role", account, name), load)
        return result

    def user(self, account: str, name: str) -> dict[str, Any] | None:
        def load() -> dict[str, Any] | None:
            try:
                return dict(self.iam(account).get_user(UserName=name)["User"])
            except botocore.exceptions.ClientError as exc:
                if _missing(exc):
                    return None
                raise

        result: dict[str, Any] | None = self._cached(("user", account, name), load)
        return result

    def managed_policy(self, arn: str) -> Any:
        parsed = arns.parse(arn)
        if (
            parsed is None
            or (parsed.partition, parsed.service, parsed.region) != ("aws", "iam", "")
            or not parsed.resource.startswith("policy/")
            or len(parsed.resource) <= len("policy/")
            or not (parsed.account == "aws" or arns.is_account_id(parsed.account))
        ):
            return None
        # AWS managed policies (account "aws") are read from the lab's management account.
        account = parsed.account if parsed.account != "aws" else "111111111111"

        def load() -> Any:
            iam = self.iam(account)
            try:
                version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
                doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)
                return _doc(doc["PolicyVersion"]["Document"])
            except botocore.exceptions.ClientError as exc:
                if _missing(exc):
                    return None
                raise

        return self._cached(("policy", arn), load)

    def principal_exists(self, arn: str) -> bool:
        """Whether an IAM principal ARN names a role or user that exists (for key policies)."""
        who = arns.principal(arn)
        if who.partition != "aws":
            return False
        if who.kind == "role":
            role = self.role(who.account, who.name)
            return role is not None and role.get("Arn") == arn
        if who.kind == "user":
            user = self.user(who.account, who.name)
            return user is not None and user.get("Arn") == arn
        if who.kind == "assumed-role":
            return self.role(who.account, who.name) is not None
        return False

    def policies_of(
        self, kind: str, account: str, name: str
    ) -> tuple[list[Any], Any, dict[str, str]]:
        """(identity policies, permissions boundary or None, principal tags) of a role or user."""

        def load() -> tuple[list[Any], Any, dict[str, str]]:
            iam = self.iam(account)
            docs: list[Any] = []
            if kind == "role":
                entity = self.role(account, name)
                if entity is None:
                    return [], None, {}
                for pname in _all(iam, "list_role_policies", "PolicyNames", RoleName=name):
                    docs.append(
                        _doc(iam.get_role_policy(RoleName=name, PolicyName=pname)["PolicyDocument"])
                    )
                attached = _all(
                    iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name
                )
            else:
                entity = self.user(account, name)
                if entity is None:
                    return [], None, {}
                for pname in _all(iam, "list_user_policies", "PolicyNames", UserName=name):
                    docs.append(
                        _doc(iam.get_user_policy(UserName=name, PolicyName=pname)["PolicyDocument"])
                    )
                attached = _all(
                    iam, "list_attached_user_policies", "AttachedPolicies", UserName=name
                )
                for group in _all(iam, "list_groups_for_user", "Groups", UserName=name):
                    gname = group["GroupName"]
                    for pname in _all(iam, "list_group_policies", "PolicyNames", GroupName=gname):
                        docs.append(
                            _doc(
                                iam.get_group_policy(GroupName=gname, PolicyName=pname)[
                                    "PolicyDocument"
                                ]
                            )
                        )
                    attached += _all(
                        iam, "list_attached_group_policies", "AttachedPolicies", GroupName=gname
                    )
            for pol in attached:
                doc = self.managed_policy(pol["PolicyArn"])
                if doc is not None:
                    docs.append(doc)
            boundary = None
            pb = entity.get("PermissionsBoundary") or {}
            if pb.get("PermissionsBoundaryArn"):
                boundary = self.managed_policy(pb["PermissionsBoundaryArn"])
            tags = {t["Key"]: t["Value"] for t in entity.get("Tags") or []}
            return docs, boundary, tags

        result: tuple[list[Any], Any, dict[str, str]] = self._cached(
            ("policies", kind, account, name), load
        )
        return result


def _all(client: Any, method: str, field: str, **kwargs: Any) -> list[Any]:
    out: list[Any] = []
    marker = None
    while True:
        args = dict(kwargs)
        if marker:
            args["Marker"] = marker
        page = getattr(client, method)(**args)
        out.extend(page.get(field, []))
        if not page.get("IsTruncated"):
            return out
        marker = page.get("Marker")


def is_mutation(action: str) -> bool:
    return not action.startswith(READ_PREFIXES)
