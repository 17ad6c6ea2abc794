"""Hand-built AWS requests, signed with SigV4 like any SDK would sign them, for input that
boto3 refuses to send (wrong types, NUL bytes, 1,000-deep bodies): what a hostile caller
holding credentials and the lab's port can put on the wire."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import cbor2
import urllib3

JSON_TARGETS = {
    "kms": "TrentService",
    "organizations": "AWSOrganizationsV20161128",
    "cloudtrail": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
    "logs": "Logs_20140328",
}
QUERY_VERSIONS = {"iam": "2010-05-08", "sts": "2011-06-15", "ec2": "2016-11-15"}
_pool = urllib3.PoolManager(maxsize=8, retries=False)


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def code(self) -> str | None:
        """The AWS error code of the reply (JSON `__type`, XML `<Code>`, CBOR `__type`)."""
        if self.content_type.startswith("application/cbor"):
            data = cbor2.loads(self.body) if self.body else {}
            return str(data.get("__type", "")).split("#")[-1] or None
        if "json" in self.content_type:
            try:
                data = json.loads(self.body or b"{}")
            except ValueError:
                return None
            return str(data.get("__type", "")).split("#")[-1] or None
        text = self.text
        if "<Code>" in text:
            return text.split("<Code>", 1)[1].split("</Code>", 1)[0]
        return None


def send(
    endpoint: str,
    service: str,
    creds: dict[str, str],
    *,
    operation: str,
    body: bytes,
    region: str = "us-east-1",
    protocol: str = "json",
) -> Reply:
    """POST one request signed with `creds` (AccessKeyId, SecretAccessKey, SessionToken)."""
    headers: dict[str, str] = {}
    url = endpoint + "/"
    if protocol == "json":
        headers["Content-Type"] = "application/x-amz-json-1.1"
        headers["X-Amz-Target"] = f"{JSON_TARGETS[service]}.{operation}"
    elif protocol == "cbor":
        url = f"{endpoint}/service/AWSHealth_20160804/operation/{operation}"
        headers["Content-Type"] = "application/cbor"
        headers["Accept"] = "application/cbor"
        headers["smithy-protocol"] = "rpc-v2-cbor"
    else:
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    aws = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body, headers=headers)
    credentials = botocore.credentials.Credentials(
        creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("SessionToken")
    )
    botocore.auth.SigV4Auth(credentials, service, region).add_auth(aws)
    resp = _pool.request(
        "POST", url, body=body, headers=dict(aws.headers.items()), timeout=30.0, redirect=False
    )
    return Reply(resp.status, resp.headers.get("Content-Type", ""), resp.data)


def json_call(
    endpoint: str, service: str, creds: dict[str, str], operation: str, params: Any, **kw: Any
) -> Reply:
    return send(
        endpoint, service, creds, operation=operation, body=json.dumps(params).encode(), **kw
    )


def query_call(
    endpoint: str, service: str, creds: dict[str, str], action: str, params: dict[str, str]
) -> Reply:
    fields = {"Action": action, "Version": QUERY_VERSIONS[service], **params}
    body = urllib.parse.urlencode(fields).encode()
    protocol = "ec2" if service == "ec2" else "query"
    return send(endpoint, service, creds, operation=action, body=body, protocol=protocol)


def cbor_call(endpoint: str, creds: dict[str, str], operation: str, body: bytes) -> Reply:
    return send(endpoint, "health", creds, operation=operation, body=body, protocol="cbor")


def operator(account: str = "111111111111") -> dict[str, str]:
    return {"AccessKeyId": account, "SecretAccessKey": "operator"}
