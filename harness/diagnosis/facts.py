"""A read-only view of an evidence bundle (contract section 3) shaped for the rules.

Calls are looked up by (service, operation, region) and tolerated when absent. Nothing here
decides anything; it only parses AWS response shapes once so that rules stay small.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from harness.aws import arns
from harness.aws.codes import THROTTLING_CODES

# Errors that are facts about the subject, not a failure of the investigation.
_EVIDENCE_ERRORS = {
    ("kms", "DescribeKey"): {"NotFoundException", "InvalidArnException"},
    ("kms", "GetKeyPolicy"): {"NotFoundException"},
    ("kms", "ListAliases"): {"NotFoundException"},
    ("iam", "GetRole"): {"NoSuchEntity", "NoSuchEntityException"},
    ("iam", "GetUser"): {"NoSuchEntity", "NoSuchEntityException"},
    ("organizations", "DescribeOrganization"): {"AWSOrganizationsNotInUseException"},
}

# How the collector's throttle breaker marks the calls it recorded without sending them.
NOT_SENT = "not sent:"

# Organizations reads AWS allows only from the management account or a delegated administrator
# (organizations/latest/APIReference/action-reference.html; API_ListParents.html: "This operation
# can be called only from the organization's management account or by a member account that is a
# delegated administrator"). Refused in a member account, no permission would lift that.
MANAGEMENT_ONLY_READS = frozenset(
    {
        "ListParents",
        "ListPoliciesForTarget",
        "DescribePolicy",
        "ListPolicies",
        "ListRoots",
        "ListChildren",
        "ListOrganizationalUnitsForParent",
        "ListTargetsForPolicy",
    }
)

# A few read calls whose IAM action is not "<service>:<Operation>".
_PERMISSION_OVERRIDES = {("logs", "FilterLogEvents"): "logs:FilterLogEvents"}


def permission_for(service: str, operation: str) -> str:
    return _PERMISSION_OVERRIDES.get((service, operation), f"{service}:{operation}")


def parse_policy(value: Any) -> dict[str, Any] | None:
    """A policy document from a dict, a JSON string or IAM's URL-encoded JSON string."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.startswith("%7B") or text.startswith("%7b"):
        text = urllib.parse.unquote(text)
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        # CloudWatch Logs timestamps are milliseconds.
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    region: str
    params: dict[str, Any]
    response: dict[str, Any] | None
    error_code: str | None
    error_message: str
    account: str | None
    note: str = ""
    # Set when the call can only be made by this account (organization management reads).
    only_by: str = ""

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"

    @property
    def ok(self) -> bool:
        return self.response is not None

    @property
    def throttled(self) -> bool:
        """Throttled by AWS, or not sent because the account's quota was already exhausted."""
        return self.error_code in THROTTLING_CODES or self.note.startswith(NOT_SENT)

    @property
    def permission(self) -> str:
        return permission_for(self.service, self.operation)

    @property
    def unreadable_reason(self) -> str:
        """Why the evidence is missing, as a person should act on it."""
        if self.throttled:
            return "throttled, retry later"
        if self.only_by:
            return (
                f"only the organization's management account {self.only_by} or a delegated "
                "administrator can read this (no permission lets a member account)"
            )
        if is_access_denied(self.error_code):
            return f"access denied: needs {self.permission}"
        return f"not read ({self.error_code}): needs {self.permission}"


@dataclass(frozen=True)
class Observed:
    code: str
    message: str


def _norm_error_code(code: str) -> str:
    return code.strip()


def is_access_denied(code: str | None) -> bool:
    # CloudTrail records "AccessDenied" where the API returns "AccessDeniedException" [V].
    return code in {"AccessDeniedException", "AccessDenied", "AccessDeniedExcpetion", "403"}


class Facts:
    def __init__(self, bundle: dict[str, Any]) -> None:
        self.bundle = bundle
        req = bundle.get("request") or {}
        self.request: dict[str, Any] = req if isinstance(req, dict) else {}
        self.principal_arn: str = str(self.request.get("principal") or "")
        self.action: str = str(self.request.get("action") or "")
        # Contract 6: several actions of one incident; `action` is the first of them.
        listed = self.request.get("actions")
        self.actions: list[str] = [
            str(a) for a in (listed if isinstance(listed, list) else []) if isinstance(a, str) and a
        ] or ([self.action] if self.action else [])
        self.region: str = str(self.request.get("region") or "")
        self.request_key: str = str(self.request.get("key") or "")
        ec = self.request.get("encryption_context")
        self.encryption_context: dict[str, str] = ec if isinstance(ec, dict) else {}
        ctx = self.request.get("context")
        self.context: dict[str, Any] = ctx if isinstance(ctx, dict) else {}
        tokens = self.request.get("grant_tokens")
        self.grant_tokens: int | None = tokens if isinstance(tokens, int) else None
        ct = self.request.get("ciphertext")
        self.ciphertext: dict[str, Any] | None = ct if isinstance(ct, dict) else None
        self.collected_at = parse_time(bundle.get("collected_at"))
        oe = self.request.get("observed_error")
        self.observed: Observed | None = (
            Observed(_norm_error_code(str(oe.get("code") or "")), str(oe.get("message") or ""))
            if isinstance(oe, dict) and oe.get("code")
            else None
        )
        self.calls: list[Call] = []
        for raw in bundle.get("calls") or []:
            if not isinstance(raw, dict):
                continue
            params = raw.get("params")
            err = raw.get("error") if isinstance(raw.get("error"), dict) else None
            resp = raw.get("response") if isinstance(raw.get("response"), dict) else None
            self.calls.append(
                Call(
                    service=str(raw.get("service") or "").lower(),
                    operation=str(raw.get("operation") or ""),
                    region=str(raw.get("region") or self.region),
                    params=params if isinstance(params, dict) else {},
                    response=None if err else resp,
                    error_code=str(err.get("code") or "Error") if err else None,
                    error_message=str(err.get("message") or "") if err else "",
                    account=raw.get("account"),
                    note=str(raw.get("note") or ""),
                )
            )
        self.calls = [self._mark_management_only(c) for c in self.calls]
        self._index: dict[tuple[str, str], list[Call]] = {}
        for call in self.calls:
            self._index.setdefault((call.service, call.operation), []).append(call)

    def _mark_management_only(self, call: Call) -> Call:
        if (
            call.service != "organizations"
            or call.operation not in MANAGEMENT_ONLY_READS
            or not is_access_denied(call.error_code)
        ):
            return call
        mgmt = ""
        for raw in self.bundle.get("calls") or []:
            if (
                isinstance(raw, dict)
                and raw.get("service") == "organizations"
                and raw.get("operation") == "DescribeOrganization"
            ):
                org = (raw.get("response") or {}).get("Organization") or {}
                mgmt = str(org.get("MasterAccountId") or "")
        reader = call.account or ""
        if not reader:
            for raw in self.bundle.get("calls") or []:
                if isinstance(raw, dict) and raw.get("operation") == "GetCallerIdentity":
                    reader = str((raw.get("response") or {}).get("Account") or "")
        if mgmt and reader and reader != mgmt:
            return dataclasses.replace(call, only_by=mgmt)
        return call

    @cached_property
    def unliftable_reads(self) -> list[Call]:
        """Unreadable calls no permission could make readable for this investigator's account."""
        return [c for c in self.unreadable if c.only_by]

    # -- generic lookups -------------------------------------------------------------------

    def find(self, service: str, operation: str, region: str | None = None) -> list[Call]:
        calls = self._index.get((service, operation), [])
        if region is None:
            return calls
        return [c for c in calls if c.region == region]

    def first(self, service: str, operation: str, region: str | None = None) -> Call | None:
        """The first successful call, else the first failed one, else None."""
        calls = self.find(service, operation, region)
        return next((c for c in calls if c.ok), calls[0] if calls else None)

    def collected(self, service: str, operation: str) -> bool:
        return bool(self._index.get((service, operation)))

    @cached_property
    def failed_reads(self) -> list[Call]:
        """Every call whose evidence is missing (errors that are facts about the subject aside)."""
        return [
            c
            for c in self.calls
            if c.error_code is not None
            and c.error_code not in _EVIDENCE_ERRORS.get((c.service, c.operation), set())
        ]

    @cached_property
    def unreadable(self) -> list[Call]:
        """One failed call per operation and kind of failure (throttled or not), in bundle order."""
        out = []
        seen = set()
        for call in self.failed_reads:
            if (call.name, call.throttled) not in seen:
                seen.add((call.name, call.throttled))
                out.append(call)
        return out

    @cached_property
    def throttled_reads(self) -> list[Call]:
        return [c for c in self.unreadable if c.throttled]

    @cached_property
    def refused_reads(self) -> list[Call]:
        """Unreadable for a reason other than throttling: a permission, credentials, an error.
        Reads only the management account can make are information, not a missing permission."""
        return [c for c in self.unreadable if not c.throttled and not c.only_by]

    # -- the principal -----------------------------------------------------------------------

    @cached_property
    def principal(self) -> arns.PrincipalArn:
        return arns.principal(self.principal_arn)

    @cached_property
    def caller_identity(self) -> dict[str, Any] | None:
        call = self.first("sts", "GetCallerIdentity")
        return call.response if call and call.ok else None

    def is_own_iam_call(self, call: Call) -> bool:
        """Whether an IAM call reads the principal itself: a bundle also holds GetRole/GetUser of
        the other principals its key policy names (step 5), in any account the investigator
        can read. Group and managed-policy reads are made for the principal only (step 4)."""
        if call.account not in (None, self.principal.account):
            return False
        for param, kinds in (("RoleName", ("role", "assumed-role")), ("UserName", ("user",))):
            if param in call.params:
                return self.principal.kind in kinds and call.params[param] == self.principal.name
        return True

    def _own_entity(self, operation: str, name: str) -> dict[str, Any] | None:
        for call in self.find("iam", operation):
            entity = (call.response or {}).get(name) if self.is_own_iam_call(call) else None
            if isinstance(entity, dict):
                return entity
        return None

    @cached_property
    def role(self) -> dict[str, Any] | None:
        return self._own_entity("GetRole", "Role")

    @cached_property
    def user(self) -> dict[str, Any] | None:
        return self._own_entity("GetUser", "User")

    @cached_property
    def identity_entity(self) -> dict[str, Any] | None:
        return self.role if self.principal.kind in ("role", "assumed-role") else self.user

    @cached_property
    def investigator_account(self) -> str:
        """The account whose credentials read the evidence (GetCallerIdentity), when recorded."""
        return str((self.caller_identity or {}).get("Account") or "")

    @property
    def principal_account(self) -> str:
        return self.principal.account

    # -- the key -----------------------------------------------------------------------------

    @cached_property
    def describe_key_call(self) -> Call | None:
        return self.first("kms", "DescribeKey", self.region)

    @cached_property
    def key_metadata(self) -> dict[str, Any] | None:
        call = self.describe_key_call
        md = call.response.get("KeyMetadata") if call and call.response else None
        return md if isinstance(md, dict) else None

    @cached_property
    def key_arn(self) -> str:
        if self.key_metadata and self.key_metadata.get("Arn"):
            return str(self.key_metadata["Arn"])
        parsed = arns.parse(self.request_key)
        if parsed and parsed.resource.startswith("key/"):
            return self.request_key
        for event in self.failing_events:
            for res in event.get("resources") or []:
                if isinstance(res, dict) and ":key/" in str(res.get("ARN", "")):
                    return str(res["ARN"])
        return ""

    @cached_property
    def key_id(self) -> str:
        if self.key_metadata and self.key_metadata.get("KeyId"):
            return str(self.key_metadata["KeyId"])
        arn = arns.parse(self.key_arn)
        if arn:
            return arn.resource_id
        return self.request_key

    @property
    def key_ref(self) -> str:
        """How fixes name the key: its ARN when known, else what the caller passed."""
        return self.key_arn or self.request_key or "<key-arn>"

    @cached_property
    def key_account(self) -> str:
        for cand in (self.key_arn, self.request_key):
            acct = arns.account_of(cand)
            if acct:
                return acct
        if self.key_metadata and self.key_metadata.get("AWSAccountId"):
            return str(self.key_metadata["AWSAccountId"])
        explicit = self.request.get("key_account")
        if isinstance(explicit, str) and explicit:
            return explicit
        return self.principal_account

    @property
    def cross_account(self) -> bool:
        return bool(self.principal_account) and self.key_account != self.principal_account

    @cached_property
    def key_policy_call(self) -> Call | None:
        return self.first("kms", "GetKeyPolicy", self.region)

    @cached_property
    def key_policy_text(self) -> str | None:
        call = self.key_policy_call
        pol = call.response.get("Policy") if call and call.response else None
        if isinstance(pol, dict):
            return json.dumps(pol)
        return pol if isinstance(pol, str) else None

    @cached_property
    def key_policy(self) -> dict[str, Any] | None:
        return parse_policy(self.key_policy_text)

    @cached_property
    def aliases(self) -> list[dict[str, Any]]:
        """Aliases of the caller's account and region (ListAliases without KeyId preferred)."""
        calls = [c for c in self.find("kms", "ListAliases", self.region) if c.ok]
        calls.sort(key=lambda c: "KeyId" in c.params)
        out: list[dict[str, Any]] = []
        seen = set()
        for call in calls:
            for alias in (call.response or {}).get("Aliases") or []:
                if isinstance(alias, dict) and alias.get("AliasName") not in seen:
                    seen.add(alias.get("AliasName"))
                    out.append(alias)
        return out

    @cached_property
    def aliases_complete(self) -> bool:
        """True when an account-wide ListAliases (no KeyId filter) was read."""
        return any(
            c.ok and "KeyId" not in c.params for c in self.find("kms", "ListAliases", self.region)
        )

    @cached_property
    def grants(self) -> list[dict[str, Any]] | None:
        call = self.first("kms", "ListGrants", self.region)
        if not call or not call.ok:
            return None
        grants = (call.response or {}).get("Grants") or []
        return [g for g in grants if isinstance(g, dict)]

    @cached_property
    def custom_key_store(self) -> dict[str, Any] | None:
        store_id = (self.key_metadata or {}).get("CustomKeyStoreId")
        for call in self.find("kms", "DescribeCustomKeyStores"):
            for store in (call.response or {}).get("CustomKeyStores") or []:
                if isinstance(store, dict) and (
                    not store_id or store.get("CustomKeyStoreId") == store_id
                ):
                    return store
        return None

    def replica(self, region: str) -> dict[str, Any]:
        """DescribeKey, key policy and grants recorded for the same key in another region."""
        out: dict[str, Any] = {}
        dk = self.first("kms", "DescribeKey", region)
        if dk:
            out["describe"] = dk
        gkp = self.first("kms", "GetKeyPolicy", region)
        if gkp:
            out["policy"] = gkp
        lg = self.first("kms", "ListGrants", region)
        if lg:
            out["grants"] = lg
        return out

    @cached_property
    def other_regions(self) -> list[str]:
        return sorted(
            {c.region for c in self.find("kms", "DescribeKey") if c.region != self.region}
        )

    # -- IAM policies ------------------------------------------------------------------------

    def _policy_version_doc(self, policy_arn: str) -> dict[str, Any] | bool | None:
        """The default version's document; False when it could not be read."""
        version_id = None
        for call in self.find("iam", "GetPolicy"):
            if call.params.get("PolicyArn") == policy_arn:
                if not call.ok:
                    return False
                version_id = ((call.response or {}).get("Policy") or {}).get("DefaultVersionId")
        for call in self.find("iam", "GetPolicyVersion"):
            if call.params.get("PolicyArn") != policy_arn:
                continue
            if version_id and call.params.get("VersionId") not in (None, version_id):
                continue
            if not call.ok:
                return False
            return parse_policy(((call.response or {}).get("PolicyVersion") or {}).get("Document"))
        return False

    @cached_property
    def identity_policies(self) -> list[tuple[str, dict[str, Any]]]:
        """(name, document) of every inline and attached policy of the principal and its groups."""
        return [(name, doc) for name, doc, _ in self.identity_policy_sources]

    @cached_property
    def identity_policy_sources(self) -> list[tuple[str, dict[str, Any], str]]:
        """(name, document, the call that read it) of every identity policy."""
        out: list[tuple[str, dict[str, Any], str]] = []
        for op in ("GetRolePolicy", "GetUserPolicy", "GetGroupPolicy"):
            for call in self.find("iam", op):
                if call.ok:
                    doc = parse_policy((call.response or {}).get("PolicyDocument"))
                    if doc is not None:
                        name = (call.response or {}).get("PolicyName") or call.params.get(
                            "PolicyName"
                        )
                        out.append((f"inline:{name}", doc, f"iam:{op}"))
        for op in (
            "ListAttachedRolePolicies",
            "ListAttachedUserPolicies",
            "ListAttachedGroupPolicies",
        ):
            for call in self.find("iam", op):
                for att in (call.response or {}).get("AttachedPolicies") or []:
                    arn = att.get("PolicyArn") if isinstance(att, dict) else None
                    if not arn or arn == self.boundary_arn:
                        continue
                    version = self._policy_version_doc(arn)
                    if isinstance(version, dict):
                        out.append((str(arn), version, "iam:GetPolicyVersion"))
        return out

    @cached_property
    def identity_unreadable(self) -> list[Call]:
        """The principal's own IAM reads that failed (not those of other key-policy principals)."""
        return [c for c in self.failed_reads if c.service == "iam" and self.is_own_iam_call(c)]

    @cached_property
    def identity_collected(self) -> bool:
        return any(c.service == "iam" for c in self.calls)

    @cached_property
    def boundary_arn(self) -> str | None:
        entity = self.identity_entity or {}
        pb = entity.get("PermissionsBoundary") or {}
        arn = pb.get("PermissionsBoundaryArn") if isinstance(pb, dict) else None
        return str(arn) if arn else None

    @cached_property
    def boundary(self) -> dict[str, Any] | bool | None:
        """The boundary document, None without a boundary, False when it could not be read."""
        if not self.boundary_arn:
            return None
        return self._policy_version_doc(self.boundary_arn)

    # -- CloudTrail --------------------------------------------------------------------------

    @cached_property
    def cloudtrail_events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        seen: set[str] = set()

        def add(raw: Any) -> None:
            ev = parse_policy(raw) if not isinstance(raw, dict) else raw
            if not isinstance(ev, dict):
                return
            eid = str(ev.get("eventID") or ev.get("EventId") or len(events))
            if eid in seen:
                return
            seen.add(eid)
            events.append(ev)

        for call in self.find("cloudtrail", "LookupEvents"):
            # LookupEvents lists newest first; reversed, the stable sort below keeps events of
            # the same second in the order they happened.
            for item in reversed((call.response or {}).get("Events") or []):
                if isinstance(item, dict):
                    add(item.get("CloudTrailEvent"))
        for call in self.find("logs", "FilterLogEvents"):
            for item in (call.response or {}).get("events") or []:
                if isinstance(item, dict):
                    add(item.get("message"))
        events.sort(key=lambda e: str(e.get("eventTime") or ""))
        return events

    @cached_property
    def cloudtrail_collected(self) -> bool:
        return any(
            c.ok
            for c in self.find("cloudtrail", "LookupEvents") + self.find("logs", "FilterLogEvents")
        )

    def kms_events(self, names: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.cloudtrail_events
            if e.get("eventSource") == "kms.amazonaws.com"
            and (names is None or e.get("eventName") in names)
        ]

    def event_key_arns(self, event: dict[str, Any]) -> list[str]:
        return [
            str(r.get("ARN"))
            for r in event.get("resources") or []
            if isinstance(r, dict) and ":key/" in str(r.get("ARN", ""))
        ]

    def event_is_caller(self, event: dict[str, Any]) -> bool:
        ident = event.get("userIdentity") or {}
        arn = ident.get("arn")
        if not arn:
            return False
        if arn == self.principal_arn:
            return True
        issuer = ((ident.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
        return bool(issuer) and issuer == self.role_arn

    @cached_property
    def failing_events(self) -> list[dict[str, Any]]:
        """Failed KMS events of the action under investigation, by the principal."""
        op = self.action.split(":", 1)[-1]
        return [
            e
            for e in self.kms_events()
            if e.get("errorCode")
            and e.get("eventName") == op
            and (self.event_is_caller(e) or not e.get("userIdentity"))
        ]

    @cached_property
    def encrypt_events(self) -> list[dict[str, Any]]:
        """Successful events that produced ciphertext (Encrypt, GenerateDataKey*, ReEncrypt)."""
        names = (
            "Encrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
            "ReEncrypt",
        )
        return [e for e in self.kms_events(names) if not e.get("errorCode")]

    @cached_property
    def role_arn(self) -> str | None:
        if self.role and self.role.get("Arn"):
            return str(self.role["Arn"])
        return self.principal.role_arn

    @cached_property
    def session_policy(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(policy, AssumeRole event) of the principal's session, from CloudTrail."""
        if self.principal.kind != "assumed-role":
            return None
        best = None
        for ev in self.cloudtrail_events:
            if ev.get("eventSource") != "sts.amazonaws.com" or not str(
                ev.get("eventName", "")
            ).startswith("AssumeRole"):
                continue
            if ev.get("errorCode"):
                continue
            params = ev.get("requestParameters") or {}
            resp = ev.get("responseElements") or {}
            assumed = (
                ((resp.get("assumedRoleUser") or {}).get("arn")) if isinstance(resp, dict) else None
            )
            same_session = assumed == self.principal_arn or (
                params.get("roleSessionName") == self.principal.session
                and str(params.get("roleArn", "")).endswith(f"/{self.principal.name}")
            )
            if not same_session:
                continue
            # The latest AssumeRole of this session decides, with or without a policy.
            doc = parse_policy(params.get("policy"))
            best = (doc, ev) if doc is not None else None
        return best

    # -- network, organization, health ------------------------------------------------------

    @cached_property
    def source_vpce(self) -> str | None:
        v = self.context.get("aws:SourceVpce") or self.context.get("aws:sourcevpce")
        return str(v) if v else None

    @cached_property
    def vpc_endpoint(self) -> dict[str, Any] | None:
        if not self.source_vpce:
            return None
        for call in self.find("ec2", "DescribeVpcEndpoints"):
            for ep in (call.response or {}).get("VpcEndpoints") or []:
                if isinstance(ep, dict) and ep.get("VpcEndpointId") == self.source_vpce:
                    return ep
        return None

    @cached_property
    def organization(self) -> dict[str, Any] | None:
        call = self.first("organizations", "DescribeOrganization")
        org = (call.response or {}).get("Organization") if call and call.ok else None
        return org if isinstance(org, dict) else None

    @cached_property
    def org_not_in_use(self) -> bool:
        call = self.first("organizations", "DescribeOrganization")
        return bool(call and call.error_code == "AWSOrganizationsNotInUseException")

    def org_chain(self, account: str) -> list[str]:
        """The account and its parents up to the root, as ListParents read them."""
        parents: dict[str, str] = {}
        for call in self.find("organizations", "ListParents"):
            for p in (call.response or {}).get("Parents") or []:
                if isinstance(p, dict) and p.get("Id"):
                    parents[str(call.params.get("ChildId"))] = str(p["Id"])
        chain = [account]
        while chain[-1] in parents and len(chain) < 10:
            chain.append(parents[chain[-1]])
        return chain

    def org_levels(
        self, account: str, policy_type: str
    ) -> list[list[tuple[str, dict[str, Any]]]] | None:
        """Policies per level from the root down to the account, or None when not all readable."""
        chain = self.org_chain(account)
        if len(chain) == 1:
            return None
        contents: dict[str, dict[str, Any]] = {}
        for call in self.find("organizations", "DescribePolicy"):
            pol = (call.response or {}).get("Policy") or {}
            doc = parse_policy(pol.get("Content"))
            pid = call.params.get("PolicyId") or (pol.get("PolicySummary") or {}).get("Id")
            if doc is not None and pid:
                contents[str(pid)] = doc
        levels: list[list[tuple[str, dict[str, Any]]]] = []
        for target in reversed(chain):
            calls = [
                c
                for c in self.find("organizations", "ListPoliciesForTarget")
                if c.params.get("TargetId") == target
                and c.params.get("Filter") == policy_type
                and c.ok
            ]
            if not calls:
                return None
            level = []
            for pol in (calls[0].response or {}).get("Policies") or []:
                pid = pol.get("Id") if isinstance(pol, dict) else None
                if pid not in contents:
                    return None
                level.append((f"{pol.get('Name') or pid} ({target})", contents[pid]))
            levels.append(level)
        return levels

    @cached_property
    def health_events(self) -> list[dict[str, Any]]:
        out = []
        for call in self.find("health", "DescribeEvents"):
            for ev in (call.response or {}).get("events") or []:
                if (
                    isinstance(ev, dict)
                    and str(ev.get("service", "")).upper() == "KMS"
                    and ev.get("region") in (None, "", self.region)
                    and ev.get("statusCode", "open") == "open"
                ):
                    out.append(ev)
        return out

    def errors_of(self, service: str, operation: str) -> list[Call]:
        return [c for c in self.find(service, operation) if c.error_code]
