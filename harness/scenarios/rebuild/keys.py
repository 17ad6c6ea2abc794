"""The key, its replicas, the aliases and grants the bundle read, and the ciphertext's key.

Metadata comes from DescribeKey (key-state.html, API_DescribeKey.html): spec, usage, origin,
state, multi-Region configuration, custom key store, deletion window; rotation from
GetKeyRotationStatus; tags from ListResourceTags when the bundle has it. Aliases are rebuilt
in every account and Region a ListAliases read, each pointing at the key it targeted there:
a key the bundle shows only as an alias target is rebuilt with its account's default key
policy (key-policy-default.html), which is all the bundle says about it.
"""

from __future__ import annotations

from typing import Any

from harness.aws import arns
from harness.scenarios.rebuild.evidence import Evidence, document
from harness.scenarios.rebuild.names import logical
from harness.scenarios.rebuild.principals import Book

KEY_ARN = arns.KMS_KEY_ARN
ALIAS_ARN = arns.KMS_ALIAS_ARN
STATES = {
    "Enabled",
    "Disabled",
    "PendingDeletion",
    "PendingImport",
    "Unavailable",
    "Creating",
    "Updating",
}
ORIGINS = {"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM"}
# Encrypting events whose resources name the key a ciphertext was made under (ct-encrypt.html).
ENCRYPTING = ("Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncrypt")


class Keys:
    """Logical keys of the rebuilt setup (`data` is the key under investigation)."""

    def __init__(self, book: Book, region: str) -> None:
        self.book = book
        self.region = region
        self.keys: dict[str, dict[str, Any]] = {}
        self.ids: dict[str, str] = {}  # real key id -> logical name
        self.arns: dict[str, str] = {}  # logical -> real ARN

    def add(self, name: str, arn: str, spec: dict[str, Any]) -> str:
        match = KEY_ARN.match(arn)
        if not match:
            return name
        region, account, key_id = match.groups()
        spec = {"account": self.book.account(account), "region": region, **spec}
        self.keys[name] = spec
        self.ids[key_id] = name
        self.arns[name] = arn
        self.book.rename.add(arn, "${key." + name + ".arn}")
        self.book.rename.add(key_id, "${key." + name + ".id}")
        return name

    def stand_in(self, arn: str, why: str) -> str | None:
        """A key the bundle shows only by ARN (alias target, ciphertext key)."""
        match = KEY_ARN.match(arn)
        if not match:
            return None
        if match.group(3) in self.ids:
            return self.ids[match.group(3)]
        name = logical(f"key_{len(self.keys)}", set(self.keys))
        self.add(name, arn, {})
        self.book.gap(
            f"key {arn}",
            f"{why}; the bundle holds no metadata or policy for it, so it is rebuilt as a "
            "symmetric key with the default key policy",
        )
        return name


def key_spec(ev: Evidence, meta: dict[str, Any], book: Book) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if meta.get("Description"):
        spec["description"] = str(meta["Description"])[:200]
    if meta.get("KeySpec") or meta.get("CustomerMasterKeySpec"):
        spec["spec"] = meta.get("KeySpec") or meta.get("CustomerMasterKeySpec")
    if meta.get("KeyUsage"):
        spec["usage"] = meta["KeyUsage"]
    origin = meta.get("Origin", "AWS_KMS")
    if origin in ORIGINS:
        spec["origin"] = origin
    else:
        book.gap(f"key origin {origin}", "the lab has no external key store; rebuilt as AWS_KMS")
    state = meta.get("KeyState", "Enabled")
    if state in STATES:
        spec["state"] = state
    else:
        book.gap(f"key state {state}", "not a state the lab can hold; rebuilt Enabled")
    if meta.get("PendingDeletionWindowInDays"):
        spec["deletion_window_days"] = int(meta["PendingDeletionWindowInDays"])
    if meta.get("ExpirationModel") == "KEY_MATERIAL_EXPIRES":
        book.gap(
            f"imported key material expiry (ValidTo {meta.get('ValidTo', 'unknown')})",
            "the lab imports material that does not expire; the key state "
            f"({state}) is rebuilt, so an expired import shows as PendingImport",
        )
    store_id = meta.get("CustomKeyStoreId")
    if store_id:
        store = _custom_store(ev, str(store_id))
        spec["custom_key_store"] = {
            "name": str(store.get("CustomKeyStoreName") or "kmslab-store"),
            "connected": store.get("ConnectionState", "CONNECTED") == "CONNECTED",
        }
        if spec.get("origin") == "AWS_KMS":
            spec["origin"] = "AWS_CLOUDHSM"
    rotation = ev.first("kms", "GetKeyRotationStatus")
    if rotation and rotation.get("KeyRotationEnabled"):
        spec["rotation"] = True
    tags = ev.first("kms", "ListResourceTags")
    if tags and tags.get("Tags"):
        spec["tags"] = {str(t["TagKey"]): str(t.get("TagValue", "")) for t in tags["Tags"]}
    return spec


def _custom_store(ev: Evidence, store_id: str) -> dict[str, Any]:
    for read in ev.all("kms", "DescribeCustomKeyStores"):
        for store in read.response.get("CustomKeyStores") or []:
            if store.get("CustomKeyStoreId") == store_id:
                return dict(store)
    return {}


def key_policies(ev: Evidence, key_region: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(policy of the key in its Region, {other Region: policy}) from GetKeyPolicy reads."""
    main: dict[str, Any] | None = None
    others: dict[str, Any] = {}
    for read in ev.all("kms", "GetKeyPolicy"):
        doc = document(read.response.get("Policy"))
        if doc is None:
            continue
        region = read.region or key_region
        arn = KEY_ARN.match(str(read.params.get("KeyId", "")))
        if arn:
            region = arn.group(1)
        if region == key_region and main is None:
            main = doc
        elif region != key_region:
            others.setdefault(region, doc)
    return main, others


def encrypting_key(ev: Evidence) -> tuple[str | None, dict[str, str] | None]:
    """(key ARN, encryption context) of the latest CloudTrail event that encrypted data."""
    found: tuple[str | None, dict[str, str] | None] = (None, None)
    for read in ev.all("cloudtrail", "LookupEvents"):
        for event in read.response.get("Events") or []:
            detail = document(event.get("CloudTrailEvent")) or {}
            if detail.get("eventName") not in ENCRYPTING or detail.get("errorCode"):
                continue
            params = detail.get("requestParameters") or {}
            arns = [r.get("ARN") for r in detail.get("resources") or [] if r.get("ARN")]
            context = params.get("encryptionContext") or params.get("destinationEncryptionContext")
            key = next((a for a in arns if KEY_ARN.match(str(a))), None)
            if key and found[0] is None:  # LookupEvents lists the latest first
                found = (str(key), dict(context) if isinstance(context, dict) else None)
    return found


def logged_key_policy(ev: Evidence, key_arn: str) -> dict[str, Any] | None:
    """The key policy as the latest CreateKey or PutKeyPolicy event in CloudTrail wrote it
    (ct-createkey.html / ct-putkeypolicy.html record the policy in requestParameters)."""
    for read in ev.all("cloudtrail", "LookupEvents"):
        for event in read.response.get("Events") or []:  # the latest first
            detail = document(event.get("CloudTrailEvent")) or {}
            if detail.get("eventName") not in ("CreateKey", "PutKeyPolicy") or detail.get(
                "errorCode"
            ):
                continue
            arns = {str(r.get("ARN")) for r in detail.get("resources") or []}
            params = detail.get("requestParameters") or {}
            if key_arn in arns or params.get("keyId") in (key_arn, key_arn.rsplit("/", 1)[-1]):
                doc = document(params.get("policy"))
                if doc is not None:
                    return doc
    return None


def deleted_principals(current: dict[str, Any], logged: dict[str, Any]) -> dict[str, str]:
    """Unique id -> ARN: where the current policy shows a unique id and the logged copy of the
    same statement (by Sid and position) an ARN, AWS replaced a deleted principal's ARN."""
    from harness.scenarios.rebuild.evidence import aws_principals, statements

    out: dict[str, str] = {}
    now, then = statements(current), statements(logged)
    for i, st in enumerate(now):
        match = next((o for o in then if st.get("Sid") and o.get("Sid") == st.get("Sid")), None)
        match = match or (then[i] if i < len(then) else None)
        if match is None:
            continue
        ids = [
            v
            for k, v in aws_principals(st)
            if k == "AWS" and arns.unique_id_kind(v) in ("role", "user")
        ]
        gone = [
            v
            for k, v in aws_principals(match)
            if k == "AWS" and v not in {x for _, x in aws_principals(st)}
        ]
        if len(ids) == 1 and len(gone) == 1:
            out[ids[0]] = gone[0]
    return out


def logged_grants(ev: Evidence, key_arn: str) -> list[dict[str, Any]]:
    """Grants as CreateGrant events in CloudTrail made them (ct-creategrant.html), less those
    a later RevokeGrant or RetireGrant event removed, in ListGrants' response shape."""
    created: dict[str, dict[str, Any]] = {}
    gone: set[str] = set()
    for read in ev.all("cloudtrail", "LookupEvents"):
        for event in read.response.get("Events") or []:
            detail = document(event.get("CloudTrailEvent")) or {}
            params = detail.get("requestParameters") or {}
            if detail.get("errorCode") or params.get("keyId") not in (
                key_arn,
                key_arn.rsplit("/", 1)[-1],
            ):
                continue
            name = detail.get("eventName")
            if name in ("RevokeGrant", "RetireGrant") and params.get("grantId"):
                gone.add(str(params["grantId"]))
            if name == "CreateGrant":
                grant_id = str(
                    (detail.get("responseElements") or {}).get("grantId") or len(created)
                )
                created.setdefault(
                    grant_id,
                    {
                        "KeyId": key_arn,
                        "GrantId": grant_id,
                        "Name": params.get("name") or "",
                        "GranteePrincipal": params.get("granteePrincipal", ""),
                        "RetiringPrincipal": params.get("retiringPrincipal"),
                        "Operations": list(params.get("operations") or []),
                        "Constraints": params.get("constraints") or {},
                    },
                )
    return [g for gid, g in created.items() if gid not in gone]
