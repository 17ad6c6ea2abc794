"""Reading AWS requests (SigV4 scope, protocol, operation, parameters) and writing AWS responses.

The lab serves several AWS protocols on one port: JSON 1.1 (KMS, CloudTrail, Logs,
Organizations), query (IAM, STS), EC2 query and Smithy RPC v2 CBOR (Health). The
service and region come from the SigV4 credential scope, as AWS's front end uses them.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

from harness.lab import cbor
from harness.lab.errors import AwsError

CREDENTIAL_RE = re.compile(r"Credential=([^/\s,]+)/(\d{8})/([^/\s]+)/([^/\s]+)/aws4_request")
QUERY_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
JSON_SERVICES = {"kms", "logs", "cloudtrail", "organizations", "health"}


@dataclass
class AwsRequest:
    """One incoming AWS API call, with the parts the lab decides on."""

    http: Request
    body: bytes
    access_key: str
    region: str
    service: str
    operation: str
    params: dict[str, Any] = field(default_factory=dict)
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    protocol: str = "json"

    @property
    def session_token(self) -> str | None:
        return self.http.headers.get("X-Amz-Security-Token")

    @property
    def user_agent(self) -> str:
        return self.http.headers.get("User-Agent", "")

    @property
    def source_vpce(self) -> str | None:
        return self.http.headers.get("X-Lab-Source-Vpce") or None

    @property
    def via_service(self) -> str | None:
        return self.http.headers.get("X-Lab-Via-Service") or None


def credential_scope(http: Request) -> tuple[str, str, str] | None:
    """(access key id, region, service) from the Authorization header or a presigned query."""
    auth = http.headers.get("Authorization", "")
    match = CREDENTIAL_RE.search(auth)
    if match is None:
        cred = http.args.get("X-Amz-Credential")
        if cred:
            match = CREDENTIAL_RE.search("Credential=" + cred)
    if match is None:
        return None
    return match.group(1), match.group(3), match.group(4)


def parse(http: Request) -> AwsRequest:
    """Parse a signed AWS request; raises AwsError for what AWS would reject up front."""
    scope = credential_scope(http)
    body = http.get_data(cache=True)
    if scope is None:
        raise AwsError(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
            403,
        )
    access_key, region, service = scope
    target = http.headers.get("X-Amz-Target", "")
    content_type = http.headers.get("Content-Type", "")
    req = AwsRequest(http, body, access_key, region, service, "")
    if http.path.startswith("/service/") and "/operation/" in http.path:
        req.protocol = "cbor"
        req.operation = http.path.rsplit("/", 1)[-1]
        req.params = cbor.loads(body) if body else {}
        if not isinstance(req.params, dict):
            raise AwsError("SerializationException", "request body is not a CBOR map")
    elif target:
        req.protocol = "json"
        req.operation = target.rsplit(".", 1)[-1]
        try:
            req.params = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            raise AwsError(
                "SerializationException", "Start of structure or map found where not expected."
            ) from exc
        if not isinstance(req.params, dict):
            raise AwsError(
                "SerializationException", "Start of structure or map found where not expected."
            )
    elif service in JSON_SERVICES and "json" in content_type:
        raise AwsError("UnknownOperationException", "missing X-Amz-Target header")
    else:
        req.protocol = "ec2" if service == "ec2" else "query"
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        pairs += list(http.args.items(multi=True))
        req.params = dict(pairs)
        req.operation = req.params.get("Action", "")
    return req


def json_response(data: Any, status: int = 200, request_id: str = "") -> Response:
    return Response(
        json.dumps(data, default=_json_default),
        status=status,
        content_type="application/x-amz-json-1.1",
        headers={"x-amzn-RequestId": request_id or str(uuid.uuid4())},
    )


def _json_default(value: Any) -> Any:
    if hasattr(value, "timestamp"):
        return value.timestamp()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def cbor_response(data: Any, status: int = 200, request_id: str = "") -> Response:
    return Response(
        cbor.dumps(data),
        status=status,
        content_type="application/cbor",
        headers={"smithy-protocol": "rpc-v2-cbor", "x-amzn-RequestId": request_id},
    )


def query_response(service: str, action: str, inner_xml: str, request_id: str) -> Response:
    ns = QUERY_NAMESPACES.get(service, "")
    xml = (
        f'<{action}Response xmlns="{ns}"><{action}Result>{inner_xml}</{action}Result>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )
    return Response(xml, status=200, content_type="text/xml")


def error_response(req_protocol: str, service: str, error: AwsError, request_id: str) -> Response:
    """The error in the shape the caller's protocol expects, so boto3 shows Code and Message."""
    if req_protocol == "json":
        body = {"__type": error.code, "message": error.message}
        if service != "kms":
            body["Message"] = error.message
        return json_response(body, error.status, request_id)
    if req_protocol == "cbor":
        resp = cbor_response(
            {"__type": error.code, "message": error.message}, error.status, request_id
        )
        return resp
    if req_protocol == "ec2":
        xml = (
            f"<Response><Errors><Error><Code>{escape(error.code)}</Code>"
            f"<Message>{escape(error.message)}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return Response(xml, status=error.status, content_type="text/xml")
    ns = QUERY_NAMESPACES.get(service, "")
    xml = (
        f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type><Code>{escape(error.code)}</Code>'
        f"<Message>{escape(error.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return Response(xml, status=error.status, content_type="text/xml")


def xml_value(tag: str, value: Any) -> str:
    return f"<{tag}>{escape(str(value))}</{tag}>"
