"""CloudTrail trails."""

from __future__ import annotations

from typing import Any

from harness.scenarios.native.base import ProvisionerBase
from harness.scenarios.refs import ResolvedRefs


class TrailProvisioning(ProvisionerBase):
    def _trails(
        self, before: dict[str, Any], after: dict[str, Any], resolved: ResolvedRefs
    ) -> None:
        old = {t["name"] for t in before["trails"]}
        for trail in after["trails"]:
            if trail["name"] in old:
                continue
            account_id = after["accounts"][trail["account"]]
            region = after["region"]
            bucket = f"kmslab-trail-{account_id}-{trail['name']}".replace("_", "-")
            self.client("s3", account_id, region).create_bucket(Bucket=bucket)
            params: dict[str, Any] = {"Name": f"kmslab-{trail['name']}", "S3BucketName": bucket}
            if trail.get("cloudwatch_logs"):
                logs = self.client("logs", account_id, region)
                group = f"/kmslab/trail/{trail['name']}"
                logs.create_log_group(logGroupName=group)
                group_arn = f"arn:aws:logs:{region}:{account_id}:log-group:{group}:*"
                params["CloudWatchLogsLogGroupArn"] = group_arn
                params["CloudWatchLogsRoleArn"] = f"arn:aws:iam::{account_id}:role/kmslab-trail"
            cloudtrail = self.client("cloudtrail", account_id, region)
            cloudtrail.create_trail(**params)
            if trail.get("exclude_kms_events"):
                cloudtrail.put_event_selectors(
                    TrailName=params["Name"],
                    EventSelectors=[
                        {
                            "ReadWriteType": "All",
                            "IncludeManagementEvents": True,
                            "ExcludeManagementEventSources": ["kms.amazonaws.com"],
                        }
                    ],
                )
            cloudtrail.start_logging(Name=params["Name"])
