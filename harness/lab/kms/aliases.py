"""Aliases (ListAliases, CreateAlias, UpdateAlias, DeleteAlias) and tags (TagResource,
UntagResource, ListResourceTags)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from harness.aws.errors import AliasNotFound, NotFound
from harness.lab.errors import AwsError, validation
from harness.lab.kms.call import KmsCall
from harness.lab.kms.model import Alias, Key, alias_arn, now
from harness.lab.kms.resolve import resolve
from harness.lab.kms.specs import page, ts

if TYPE_CHECKING:
    from harness.lab.kms.service import KmsService

ALIAS_PATTERN = (
    "1 validation error detected: Value at 'aliasName' failed to satisfy constraint: "
    "Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$"
)


def _must(key: Key | None) -> Key:
    if key is None:  # the route resolves a key before any handler that takes one runs
        raise AssertionError("no key")
    return key


# tags ----------------------------------------------------------------------------------------------
def tags_of(call: KmsCall) -> dict[str, str]:
    out = {}
    for tag in call.params.get("Tags") or []:
        if not isinstance(tag, dict) or "TagKey" not in tag:
            raise validation("Each tag needs a TagKey and a TagValue.")
        if str(tag["TagKey"]).startswith("aws:"):
            raise AwsError("TagException", "Tags beginning with aws: are reserved.")
        out[str(tag["TagKey"])] = str(tag.get("TagValue", ""))
    return out


def tag_context(tags: dict[str, str]) -> dict[str, Any]:
    ctx: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags:
        ctx["aws:TagKeys"] = sorted(tags)
    return ctx


def prepare_tag(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    return tag_context(tags_of(call))


def tag_resource(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    with svc.store.lock:
        key.tags.update(tags_of(call))
    return {}


def _tag_keys(call: KmsCall) -> list[str]:
    return [str(n) for n in call.params.get("TagKeys") or []]


def prepare_untag(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    return {"aws:TagKeys": _tag_keys(call)}


def untag_resource(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    with svc.store.lock:
        for name in _tag_keys(call):
            key.tags.pop(name, None)
    return {}


def list_tags(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    tags = [{"TagKey": k, "TagValue": v} for k, v in sorted(key.tags.items())]
    return page(tags, call.params, "Tags")


# aliases ---------------------------------------------------------------------------------------------
def list_aliases(svc: KmsService, call: KmsCall, _: Key | None) -> dict[str, Any]:
    # kms:ListAliases is an IAM-policy-only permission on "*", with or without KeyId
    # (API_ListAliases.html "Required permissions"; the Service Authorization Reference lists no
    # resource type for it): the key filters the answer, its key policy does not decide.
    account = call.principal.account
    target = None
    if call.params.get("KeyId"):
        with svc.store.lock:
            key = resolve(svc.store, account, call.region, call.params["KeyId"]).key
        if key.account != account:
            raise AwsError("AccessDeniedException", "")
        target = key.key_id
    with svc.store.lock:
        aliases = sorted(svc.store.aliases_in(account, call.region), key=lambda a: a.name)
    entries = [
        {
            "AliasName": a.name,
            "AliasArn": alias_arn(call.region, account, a.name),
            "TargetKeyId": a.target,
            "CreationDate": ts(a.created),
            "LastUpdatedDate": ts(a.updated),
        }
        for a in aliases
        if target is None or a.target == target
    ]
    return page(entries, call.params, "Aliases")


def _alias_name(name: Any) -> str:
    if not isinstance(name, str) or not name.startswith("alias/") or len(name) <= 6:
        raise validation(ALIAS_PATTERN)
    if name.startswith("alias/aws/"):
        raise AwsError("NotAuthorizedException", "")
    if not re.match(r"^alias/[a-zA-Z0-9/_-]+$", name):
        raise validation(ALIAS_PATTERN)
    return name


def prepare_alias(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    _alias_name(call.params.get("AliasName"))
    return {}


def prepare_existing_alias(svc: KmsService, call: KmsCall) -> dict[str, Any]:
    """The alias must exist before its keys are looked at (NotFoundException)."""
    name = _alias_name(call.params.get("AliasName"))
    account = call.principal.account
    with svc.store.lock:
        if (account, call.region, name) not in svc.store.aliases:
            raise AliasNotFound(arn=alias_arn(call.region, account, name))
    return {}


def create_alias(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    name = str(call.params["AliasName"])
    account = call.principal.account
    if key.account != account:
        raise NotFound(arn=call.params.get("TargetKeyId") or "")
    with svc.store.lock:
        if (account, call.region, name) in svc.store.aliases:
            raise AwsError(
                "AlreadyExistsException",
                f"An alias with the name {alias_arn(call.region, account, name)} already exists",
            )
        svc.store.aliases[(account, call.region, name)] = Alias(name, key.key_id)
    call.resources.insert(0, alias_arn(call.region, account, name))
    return {}


def update_alias(svc: KmsService, call: KmsCall, found: Key | None) -> dict[str, Any]:
    key = _must(found)
    name = str(call.params["AliasName"])
    account = call.principal.account
    with svc.store.lock:
        alias = svc.store.aliases.get((account, call.region, name))
        if alias is None:
            raise AliasNotFound(arn=alias_arn(call.region, account, name))
        old = svc.store.get(account, call.region, alias.target)
    if old is not None and (old.usage != key.usage or old.spec != key.spec):
        raise validation(
            f"Alias {name} cannot be updated to a key of a different key spec or key usage."
        )
    with svc.store.lock:
        alias.target = key.key_id
        alias.updated = now()
    call.resources.insert(0, alias_arn(call.region, account, name))
    return {}


def delete_alias(svc: KmsService, call: KmsCall, _: Key | None) -> dict[str, Any]:
    name = str(call.params["AliasName"])
    account = call.principal.account
    with svc.store.lock:
        svc.store.aliases.pop((account, call.region, name), None)
    call.resources.insert(0, alias_arn(call.region, account, name))
    return {}
