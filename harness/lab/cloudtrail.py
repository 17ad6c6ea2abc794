"""CloudTrail of the lab: events in AWS's record schema per account and Region,
LookupEvents, trails, and delivery to CloudWatch Logs for trails that name a log group.

Record fields follow the CloudTrail record contents reference
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)
and the KMS examples (ct-decrypt.html).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections import deque
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from harness.aws import arns
from harness.aws.operations import KMS_CLOUDTRAIL_READ_ONLY, READ_VERBS
from harness.lab.cloudtrail_lookup import lookup_events
from harness.lab.errors import AwsError
from harness.lab.identity import LabPrincipal
from harness.lab.trail import Trail

if TYPE_CHECKING:
    from harness.lab.gateway import LabGateway

MAX_EVENTS_PER_ACCOUNT = 20000
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
            read_only = name in KMS_CLOUDTRAIL_READ_ONLY or name.startswith(READ_VERBS)
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
        with self._lock:
            records = list(self.events.get(account, ()))
        return lookup_events(records, region, params)


def _resource_type(arn: str) -> str:
    if ":kms:" in arn:
        return "AWS::KMS::Key" if ":key/" in arn else "AWS::KMS::Alias"
    if ":role/" in arn:
        return "AWS::IAM::Role"
    if ":user/" in arn:
        return "AWS::IAM::User"
    return "AWS::Unknown"
