"""CloudTrail of the lab: events in AWS's record schema per account and Region,
LookupEvents, trails, and delivery to CloudWatch Logs for trails that name a log group.

Record fields follow the CloudTrail record contents reference
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)
and the KMS examples (ct-decrypt.html).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from harness.aws import arns
from harness.lab.errors import AwsError
from harness.lab.identity import LabPrincipal

if TYPE_CHECKING:
    from harness.lab.gateway import LabGateway

MAX_EVENTS_PER_ACCOUNT = 20000
LOOKUP_KEYS = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)
KMS_READ_ONLY = (
    "Decrypt",
    "Encrypt",
    "ReEncrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateRandom",
    "Sign",
    "Verify",
    "GenerateMac",
    "VerifyMac",
)
SECRET_PARAMS = {
    "plaintext",
    "ciphertextBlob",
    "message",
    "signature",
    "mac",
    "encryptedKeyMaterial",
    "importToken",
    "keyStorePassword",
    "grantTokens",
    "grantToken",
    "publicKey",
    "secretAccessKey",
    "password",
    "sessionToken",
    "policyDocument",
}


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def request_parameters(params: dict[str, Any]) -> dict[str, Any] | None:
    """CloudTrail's requestParameters: camelCase names, no secrets, blobs and tokens left out."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        key = _lower_first(name)
        if key in SECRET_PARAMS or name in ("Action", "Version"):
            continue
        out[key] = value
    return out or None


def iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class Trail:
    def __init__(self, account: str, region: str, params: dict[str, Any]) -> None:
        self.account = account
        self.region = region
        self.name = str(params["Name"])
        self.params = dict(params)
        self.logging = False
        self.selectors: list[dict[str, Any]] = [
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [],
                "ExcludeManagementEventSources": [],
            }
        ]
        self.advanced: list[dict[str, Any]] | None = None
        self.tags: dict[str, str] = {}

    @property
    def arn(self) -> str:
        return f"arn:aws:cloudtrail:{self.region}:{self.account}:trail/{self.name}"

    def describe(self) -> dict[str, Any]:
        p = self.params
        out = {
            "Name": self.name,
            "TrailARN": self.arn,
            "HomeRegion": self.region,
            "S3BucketName": p.get("S3BucketName"),
            "IncludeGlobalServiceEvents": p.get("IncludeGlobalServiceEvents", True),
            "IsMultiRegionTrail": bool(p.get("IsMultiRegionTrail", False)),
            "IsOrganizationTrail": bool(p.get("IsOrganizationTrail", False)),
            "LogFileValidationEnabled": bool(p.get("EnableLogFileValidation", False)),
            "HasCustomEventSelectors": False,
            "HasInsightSelectors": False,
        }
        for name in (
            "S3KeyPrefix",
            "SnsTopicName",
            "CloudWatchLogsLogGroupArn",
            "CloudWatchLogsRoleArn",
            "KmsKeyId",
        ):
            if p.get(name):
                out[name] = p[name]
        return out

    def covers(self, region: str, source: str, read_only: bool) -> bool:
        if not self.logging:
            return False
        if region != self.region and not self.params.get("IsMultiRegionTrail"):
            return False
        for sel in self.selectors:
            if not sel.get("IncludeManagementEvents", True):
                continue
            if source in (sel.get("ExcludeManagementEventSources") or []):
                continue
            rw = sel.get("ReadWriteType", "All")
            if rw == "All" or (rw == "ReadOnly") == read_only:
                return True
        return False


class CloudTrail:
    def __init__(self, lab: LabGateway) -> None:
        self.lab = lab
        self._lock = threading.Lock()
        self.events: dict[str, deque[dict[str, Any]]] = {}
        self.trails: dict[tuple[str, str], Trail] = {}
        self._streams: set[tuple[str, str, str]] = set()

    def reset(self) -> None:
        with self._lock:
            self.events.clear()
            self.trails.clear()
            self._streams.clear()

    # recording ---------------------------------------------------------------------------------
    def record(
        self,
        account: str,
        region: str,
        principal: LabPrincipal | None,
        source: str,
        name: str,
        params: dict[str, Any] | None,
        *,
        response: dict[str, Any] | None = None,
        error: AwsError | None = None,
        resources: list[str] | None = None,
        read_only: bool | None = None,
        invoked_by: str | None = None,
        vpce: str | None = None,
        user_agent: str = "",
        request_id: str = "",
        event_type: str = "AwsApiCall",
        additional: dict[str, Any] | None = None,
        identity_override: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        if read_only is None:
            read_only = name in KMS_READ_ONLY or name.startswith(
                ("Describe", "Get", "List", "Lookup")
            )
        if identity_override is not None:
            identity = identity_override
        elif principal is not None:
            identity = principal.user_identity(invoked_by)
        else:
            identity = {"accountId": account, "invokedBy": "AWS Internal"}
        record: dict[str, Any] = {
            "eventVersion": "1.08",
            "userIdentity": identity,
            "eventTime": iso(now),
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": invoked_by or ("AWS Internal" if principal is None else "127.0.0.1"),
            "userAgent": invoked_by or user_agent or "AWS Internal",
            "requestParameters": request_parameters(params or {}),
            "responseElements": response,
            "requestID": request_id or str(uuid.uuid4()),
            "eventID": str(uuid.uuid4()),
            "readOnly": read_only,
            "eventType": event_type,
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }
        if error is not None:
            record["errorCode"] = error.code
            record["errorMessage"] = error.message
        if resources:
            record["resources"] = [
                {
                    "accountId": arns.account_of(arn) or account,
                    "type": _resource_type(arn),
                    "ARN": arn,
                }
                for arn in resources
            ]
        if vpce:
            record["vpcEndpointId"] = vpce
        if additional:
            record["additionalEventData"] = additional
        with self._lock:
            self.events.setdefault(account, deque(maxlen=MAX_EVENTS_PER_ACCOUNT)).append(record)
            trails = [
                t
                for (acct, _), t in self.trails.items()
                if acct == account and t.covers(region, source, read_only)
            ]
        for trail in trails:
            self._deliver(trail, record)
        return record

    def service_event(self, key: Any, name: str, params: dict[str, Any]) -> None:
        self.record(
            key.account,
            key.region,
            None,
            "kms.amazonaws.com",
            name,
            None,
            resources=[key.arn],
            read_only=False,
            event_type="AwsServiceEvent",
            additional=params,
        )

    def _deliver(self, trail: Trail, record: dict[str, Any]) -> None:
        group_arn = trail.params.get("CloudWatchLogsLogGroupArn")
        if not group_arn:
            return
        parsed = arns.parse(group_arn)
        if parsed is None or parsed.resource.count(":") < 1 or parsed.resource_type != "log-group":
            return
        region, account, group = parsed.region, parsed.account, parsed.resource.split(":")[1]
        stream = f"{trail.account}_CloudTrail_{record['awsRegion']}"
        logs = self.lab.upstream.client("logs", account, region)
        try:
            if (account, group, stream) not in self._streams:
                try:
                    logs.create_log_stream(logGroupName=group, logStreamName=stream)
                except botocore.exceptions.ClientError as exc:
                    if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                        raise
                self._streams.add((account, group, stream))
            logs.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[
                    {
                        "timestamp": int(dt.datetime.now(dt.UTC).timestamp() * 1000),
                        "message": json.dumps(record),
                    }
                ],
            )
        except botocore.exceptions.ClientError:
            # AWS drops delivery silently when the group or role is wrong; so does the lab.
            return

    # API ----------------------------------------------------------------------------------------
    def handle(
        self, principal: LabPrincipal, region: str, operation: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        account = principal.account
        if operation == "LookupEvents":
            return self.lookup(account, region, params)
        if operation == "CreateTrail":
            name = params.get("Name")
            if not name:
                raise AwsError("InvalidTrailNameException", "Trail name is required.")
            with self._lock:
                if (account, str(name)) in self.trails:
                    raise AwsError(
                        "TrailAlreadyExistsException",
                        f"Trail {name} already exists for customer: {account}",
                    )
                trail = Trail(account, region, params)
                self.trails[(account, trail.name)] = trail
            return trail.describe()
        if operation == "DescribeTrails":
            names = params.get("trailNameList") or []
            with self._lock:
                trails = [
                    t.describe()
                    for (acct, _), t in self.trails.items()
                    if acct == account
                    and (t.region == region or t.params.get("IsMultiRegionTrail"))
                    and (not names or t.name in names or t.arn in names)
                ]
            return {"trailList": trails}
        if operation == "ListTrails":
            with self._lock:
                return {
                    "Trails": [
                        {"TrailARN": t.arn, "Name": t.name, "HomeRegion": t.region}
                        for (acct, _), t in self.trails.items()
                        if acct == account
                    ]
                }
        trail = self._trail(
            account,
            params.get("Name")
            or params.get("TrailName")
            or (params.get("ResourceIdList") or [""])[0],
        )
        if operation == "GetTrail":
            return {"Trail": trail.describe()}
        if operation == "GetTrailStatus":
            return {"IsLogging": trail.logging}
        if operation == "StartLogging":
            trail.logging = True
            return {}
        if operation == "StopLogging":
            trail.logging = False
            return {}
        if operation == "DeleteTrail":
            with self._lock:
                self.trails.pop((account, trail.name), None)
            return {}
        if operation == "UpdateTrail":
            trail.params.update({k: v for k, v in params.items() if k != "Name"})
            return trail.describe()
        if operation == "PutEventSelectors":
            if params.get("EventSelectors") is not None:
                trail.selectors = list(params["EventSelectors"])
            if params.get("AdvancedEventSelectors") is not None:
                trail.advanced = list(params["AdvancedEventSelectors"])
            return {"TrailARN": trail.arn, "EventSelectors": trail.selectors}
        if operation == "GetEventSelectors":
            out: dict[str, Any] = {"TrailARN": trail.arn}
            if trail.advanced is not None:
                out["AdvancedEventSelectors"] = trail.advanced
            else:
                out["EventSelectors"] = trail.selectors
            return out
        if operation == "GetInsightSelectors":
            raise AwsError(
                "InsightNotEnabledException", f"Trail {trail.name} does not have Insights enabled."
            )
        if operation == "AddTags":
            trail.tags.update({t["Key"]: t.get("Value", "") for t in params.get("TagsList") or []})
            return {}
        if operation == "RemoveTags":
            for t in params.get("TagsList") or []:
                trail.tags.pop(t["Key"], None)
            return {}
        if operation == "ListTags":
            return {
                "ResourceTagList": [
                    {
                        "ResourceId": trail.arn,
                        "TagsList": [{"Key": k, "Value": v} for k, v in trail.tags.items()],
                    }
                ]
            }
        raise AwsError(
            "UnknownOperationException", f"The lab does not implement cloudtrail:{operation}"
        )

    def _trail(self, account: str, name: Any) -> Trail:
        name = str(name or "")
        if name.startswith("arn:"):
            name = name.rsplit("/", 1)[-1]
        with self._lock:
            trail = self.trails.get((account, name))
        if trail is None:
            raise AwsError(
                "TrailNotFoundException", f"Unknown trail: {name} for the user: {account}"
            )
        return trail

    def lookup(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        attrs = params.get("LookupAttributes") or []
        if len(attrs) > 1:
            raise AwsError(
                "InvalidLookupAttributesException",
                "You cannot specify more than one lookup attribute.",
            )
        attr = attrs[0] if attrs else None
        if attr is not None and attr.get("AttributeKey") not in LOOKUP_KEYS:
            raise AwsError(
                "InvalidLookupAttributesException",
                f"Invalid attribute key {attr.get('AttributeKey')}.",
            )
        start = _time(params.get("StartTime"))
        end = _time(params.get("EndTime"))
        if start and end and start > end:
            raise AwsError("InvalidTimeRangeException", "Start time must be before end time.")
        limit = params.get("MaxResults") or 50
        if not isinstance(limit, int) or not 1 <= limit <= 50:
            raise AwsError("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
        offset = 0
        if params.get("NextToken"):
            try:
                offset = int(base64.b64decode(params["NextToken"]).decode())
            except (ValueError, UnicodeDecodeError) as exc:
                raise AwsError("InvalidNextTokenException", "Invalid NextToken.") from exc
        with self._lock:
            records = list(self.events.get(account, ()))
        matched = []
        for record in reversed(records):
            if record["awsRegion"] != region:
                continue
            when = dt.datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=dt.UTC
            )
            if start and when < start.replace(microsecond=0):
                continue
            if end and when > end:
                continue
            if attr is not None and not _attribute_matches(
                record, attr["AttributeKey"], str(attr.get("AttributeValue", ""))
            ):
                continue
            matched.append(record)
        page = matched[offset : offset + limit]
        out: dict[str, Any] = {"Events": [_lookup_entry(r) for r in page]}
        if offset + limit < len(matched):
            out["NextToken"] = base64.b64encode(str(offset + limit).encode()).decode()
        return out


def _time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise AwsError("InvalidTimeRangeException", f"Invalid time {value}.") from exc


def _resource_type(arn: str) -> str:
    if ":kms:" in arn:
        return "AWS::KMS::Key" if ":key/" in arn else "AWS::KMS::Alias"
    if ":role/" in arn:
        return "AWS::IAM::Role"
    if ":user/" in arn:
        return "AWS::IAM::User"
    return "AWS::Unknown"


def _username(record: dict[str, Any]) -> str | None:
    ident = record.get("userIdentity") or {}
    kind = ident.get("type")
    if kind == "AssumedRole":
        return str(ident.get("arn", "")).rsplit("/", 1)[-1]
    if kind == "IAMUser":
        return ident.get("userName")
    if kind == "Root":
        return "root"
    return None


def _attribute_matches(record: dict[str, Any], key: str, value: str) -> bool:
    if key == "EventId":
        return bool(record["eventID"] == value)
    if key == "EventName":
        return bool(record["eventName"] == value)
    if key == "ReadOnly":
        return str(record["readOnly"]).lower() == value.lower()
    if key == "Username":
        return _username(record) == value
    if key == "EventSource":
        return bool(record["eventSource"] == value)
    if key == "AccessKeyId":
        return bool((record.get("userIdentity") or {}).get("accessKeyId") == value)
    resources = record.get("resources") or []
    if key == "ResourceType":
        return any(r["type"] == value for r in resources)
    if key == "ResourceName":
        return any(r["ARN"] == value or r["ARN"].rsplit("/", 1)[-1] == value for r in resources)
    return False


def _lookup_entry(record: dict[str, Any]) -> dict[str, Any]:
    when = dt.datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    entry: dict[str, Any] = {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": str(record["readOnly"]).lower(),
        "EventTime": when.timestamp(),
        "EventSource": record["eventSource"],
        "Resources": [
            {"ResourceType": r["type"], "ResourceName": r["ARN"]}
            for r in record.get("resources") or []
        ],
        "CloudTrailEvent": json.dumps(record),
    }
    key = (record.get("userIdentity") or {}).get("accessKeyId")
    if key:
        entry["AccessKeyId"] = key
    name = _username(record)
    if name:
        entry["Username"] = name
    return entry
