"""A CloudTrail trail of the lab: its settings as CreateTrail and UpdateTrail set them, and
which events its event selectors cover."""

from __future__ import annotations

from typing import Any


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
