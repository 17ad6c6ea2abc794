"""Key resolution: which of the NotFound-type codes explains the request, if any.

KMS resolves a key ID or alias name in the caller's own account and in the Region called
(key-policy-modifying-external-accounts.html#cross-account-use); a key ARN of another Region gives
NotFoundException "Invalid arn" (catalog #50).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.aws import arns
from harness.diagnosis.context import Context
from harness.diagnosis.model import Evidence


@dataclass
class Resolution:
    code: str
    evidence: list[Evidence] = field(default_factory=list)
    key_region: str = ""
    replica_regions: list[str] = field(default_factory=list)
    alias: str = ""
    cross_account: bool = False
    other_arn: str = ""


def _not_found(ctx: Context) -> list[Evidence]:
    out = []
    call = ctx.facts.describe_key_call
    if call is not None and call.error_code in ("NotFoundException", "InvalidArnException"):
        out.append(
            Evidence(
                "kms:DescribeKey",
                f"{call.error_code}: {call.error_message or 'not found'} (KeyId {call.params.get('KeyId', ctx.facts.request_key)}, region {call.region})",
            )
        )
    sig = ctx.signal
    found_now = ctx.facts.key_metadata is not None
    if (
        sig
        and (sig.code == "NotFoundException" or sig.ambiguous)
        and (sig is ctx.observed or not found_now)
    ):
        out.append(ctx.signal_evidence())
    return out


def _compute(ctx: Context) -> Resolution | None:
    facts = ctx.facts
    nf = _not_found(ctx)
    dk_failed = facts.describe_key_call is not None and not facts.describe_key_call.ok and bool(nf)
    req_arn = arns.parse(facts.request_key)
    req_region = facts.region

    # Multi-Region key without a replica in the Region called (catalog #51).
    for region in facts.other_regions:
        other = facts.first("kms", "DescribeKey", region)
        md = (other.response or {}).get("KeyMetadata") if other and other.ok else None
        if not md or not md.get("MultiRegion"):
            continue
        if (
            facts.key_id
            and not str(md.get("KeyId", "")).endswith(facts.key_id.rsplit("/", 1)[-1])
            and not facts.request_key.startswith("alias/")
        ):
            continue
        cfg = md.get("MultiRegionConfiguration") or {}
        regions = [str((cfg.get("PrimaryKey") or {}).get("Region", ""))] + [
            str(r.get("Region")) for r in cfg.get("ReplicaKeys") or [] if isinstance(r, dict)
        ]
        regions = [r for r in regions if r]
        if req_region and req_region not in regions and (dk_failed or nf):
            ev = [
                Evidence(
                    "kms:DescribeKey",
                    f"multi-Region key {md.get('KeyId')} ({region}) has copies in {', '.join(regions)} only, not {req_region}",
                )
            ]
            primary = str((cfg.get("PrimaryKey") or {}).get("Arn") or md.get("Arn") or "")
            return Resolution(
                "MULTI_REGION_REPLICA_MISSING",
                ev + nf,
                key_region=str((cfg.get("PrimaryKey") or {}).get("Region") or region),
                replica_regions=regions,
                other_arn=primary,
            )

    # A multi-Region key id (mrk-...) not found here, with no copy of it recorded elsewhere.
    kid = (req_arn.resource_id if req_arn else facts.request_key).rsplit("/", 1)[-1]
    if kid.startswith("mrk-") and dk_failed:
        ev = [
            Evidence(
                "kms:DescribeKey",
                f"{kid} is a multi-Region key id (mrk- prefix) and has no copy in {req_region}",
            )
        ]
        return Resolution(
            "MULTI_REGION_REPLICA_MISSING",
            ev + nf,
            key_region="<primary-region>",
            other_arn=facts.request_key,
        )

    # A key ARN of another Region, or ciphertext made in another Region.
    if (
        req_arn
        and req_arn.service == "kms"
        and req_arn.region
        and req_region
        and req_arn.region != req_region
        and not facts.key_id.startswith("mrk-")
    ):
        ev = [
            Evidence(
                "request",
                f"the key ARN {facts.request_key} is in {req_arn.region} but the call went to {req_region}",
            )
        ]
        return Resolution("WRONG_REGION", ev + nf, key_region=req_arn.region)
    if nf or (ctx.signal and ctx.signal.ambiguous):
        for event in facts.encrypt_events:
            for key_arn in facts.event_key_arns(event):
                region = arns.region_of(key_arn) or ""
                if (
                    region
                    and req_region
                    and region != req_region
                    and not key_arn.split("/")[-1].startswith("mrk-")
                ):
                    if (
                        facts.request_key
                        and not facts.request_key.endswith(key_arn.split("/")[-1])
                        and not facts.request_key.startswith("alias/")
                        and req_arn is None
                    ):
                        continue
                    ev = [
                        Evidence(
                            "cloudtrail:LookupEvents",
                            f"{event.get('eventName')} at {event.get('eventTime')} used key {key_arn} in {region}; the failing call went to {req_region}",
                        )
                    ]
                    return Resolution("WRONG_REGION", ev + nf, key_region=region)
        for region in facts.other_regions:
            other = facts.first("kms", "DescribeKey", region)
            md = (other.response or {}).get("KeyMetadata") if other and other.ok else None
            if md and not md.get("MultiRegion") and dk_failed:
                ev = [
                    Evidence(
                        "kms:DescribeKey",
                        f"the key exists in {region} ({md.get('Arn')}), not in {req_region}",
                    )
                ]
                return Resolution("WRONG_REGION", ev + nf, key_region=region)

    alias = ""
    if facts.request_key.startswith("alias/"):
        alias = facts.request_key
    elif req_arn and req_arn.resource.startswith("alias/"):
        alias = req_arn.resource
    if alias:
        names = {a.get("AliasName") for a in facts.aliases}
        missing = dk_failed or (
            facts.aliases_complete and alias not in names and not facts.key_metadata
        )
        if missing:
            ev = list(nf)
            if facts.aliases_complete and alias not in names:
                ev.append(
                    Evidence(
                        "kms:ListAliases",
                        f"{alias} is not among the {len(names)} aliases of account {facts.principal_account or '?'} in {req_region}",
                    )
                )
            owner = facts.request.get("key_account")
            cross = bool(
                facts.request_key.startswith("alias/")
                and isinstance(owner, str)
                and owner
                and owner != facts.principal_account
            )
            if cross:
                ev.append(
                    Evidence(
                        "request",
                        f"the key belongs to account {owner}, but an alias name is resolved in the caller's account {facts.principal_account}",
                    )
                )
            return Resolution("ALIAS_NOT_FOUND", ev, alias=alias, cross_account=cross)

    if dk_failed or (ctx.observed and ctx.observed.code == "NotFoundException"):
        ev = list(nf)
        for event in facts.kms_events(("DeleteKey", "ScheduleKeyDeletion")):
            if facts.key_id and facts.key_id in str(event):
                ev.append(
                    Evidence(
                        "cloudtrail:LookupEvents",
                        f"{event.get('eventName')} at {event.get('eventTime')}",
                    )
                )
        if ev:
            return Resolution("KEY_NOT_FOUND", ev)
    return None


def resolution(ctx: Context) -> Resolution | None:
    if "resolution" not in ctx.memo:
        ctx.memo["resolution"] = _compute(ctx)
    res: Resolution | None = ctx.memo["resolution"]
    return res
