"""Reading AWS requests (SigV4 scope, protocol, operation, parameters) and writing AWS responses.

The lab serves several AWS protocols on one port: JSON 1.1 (KMS, CloudTrail, Logs,
Organizations), query (IAM, STS), EC2 query and Smithy RPC v2 CBOR (Health). The
service and region come from the SigV4 credential scope, as AWS's front end uses them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import cbor2
from werkzeug.wrappers import Request, Response

from harness.lab.errors import AwsError

CREDENTIAL_RE = re.compile(r"Credential=([^/\s,]+)/(\d{8})/([^/\s]+)/([^/\s]+)/aws4_request")
QUERY_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
JSON_SERVICES = {"kms", "logs", "cloudtrail", "organizations", "health"}
# The deepest input shape of the served operations nests well under 16 levels.
MAX_DEPTH = 32
_CBOR_SCALARS = (str, bytes, int, float, bool, type(None))


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
        try:
            req.params = cbor_loads(body) if body else {}
        except ValueError as exc:
            raise AwsError(
                "SerializationException", f"request body is not valid CBOR: {exc}"
            ) from exc
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


def cbor_loads(body: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """A Smithy RPC v2 CBOR body as plain values: maps with text keys, arrays, strings, bytes,
    numbers, booleans, null; a timestamp (tag 1) as its epoch seconds, as JSON bodies carry it.

    cbor2 bounds the nesting (`max_depth`), so a hostile body cannot recurse the decoder; what
    the protocol never sends (other tags, shared references, non-text map keys) is refused.
    Raises ValueError."""
    try:
        value = cbor2.loads(body, max_depth=max_depth)
    except (cbor2.CBORDecodeError, RecursionError, MemoryError) as exc:
        raise ValueError(str(exc)) from exc
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, _CBOR_SCALARS):
        return value
    seen: set[int] = set()
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            raise ValueError("CBOR shared references are not part of the protocol")
        seen.add(id(item))
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for k, v in list(pairs):
            if isinstance(item, dict) and not isinstance(k, str):
                raise ValueError("CBOR map keys must be text strings")
            if isinstance(v, dt.datetime):
                item[k] = v.timestamp()
            elif isinstance(v, dict | list):
                stack.append(v)
            elif not isinstance(v, _CBOR_SCALARS):
                raise ValueError(
                    f"CBOR value of type {type(v).__name__} is not part of the protocol"
                )
    return value


def cbor_dumps(data: Any) -> bytes:
    """Datetimes as tag 1 epoch timestamps, as the protocol writes timestamps."""
    return cbor2.dumps(data, datetime_as_timestamp=True, timezone=dt.UTC)


def cbor_response(data: Any, status: int = 200, request_id: str = "") -> Response:
    return Response(
        cbor_dumps(data),
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
