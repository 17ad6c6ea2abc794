"""Request validation against the AWS API model, as AWS's front end does it before any
service logic, for every protocol the lab serves.

Two stages:
- `envelope(http)`: what is refused before the body is parsed at all (size, nesting depth,
  undecodable CBOR), so no parser can be driven into a RecursionError or a huge allocation.
- `request(req)`: the parsed parameters against the operation's input shape from botocore's
  service model, recursively: types, required members, string/blob/list/map lengths, numeric
  ranges, enums and patterns, plus grant constraint shapes (the lab evaluates stored grants).

Errors take the shape of the caller's protocol (IAM and STS CommonErrors: `ValidationError`;
EC2 errors-overview: `MissingParameter` / `InvalidParameterValue`; JSON services:
`SerializationException` for wrong types, `ValidationException` for constraints; an unknown
action is `InvalidAction` on the query protocols, `UnknownOperationException` on JSON).

Over 400 lines because: it is one recursive walk over botocore's shapes (structure, list,
map, scalar) with each protocol's error codes; the query protocols' rebuild of flat
parameters into that structure is the part that could move out if it grows.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import Any

import botocore.session
from botocore.model import OperationNotFoundError, Shape
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request

from harness.lab import protocol
from harness.lab.errors import AwsError

# Larger than any valid request of the served operations (an Organizations policy is at most
# 1,000,000 characters, an IAM policy document 131,072; both fit when escaped), small enough
# that a hostile body cannot exhaust memory. [V]: AWS does not document its own limit or code.
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_DEPTH = protocol.MAX_DEPTH
SERVED = ("kms", "iam", "sts", "ec2", "logs", "cloudtrail", "organizations", "health")
# Shapes the lab stores and later evaluates for other callers: members outside the model are
# refused instead of ignored, so a stored object can only carry what the evaluator reads.
STRICT_SHAPES = {("kms", "GrantConstraints")}
_STRING_RE = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET_RE = re.compile(rb"[\[\]{}]")
_session = botocore.session.get_session()


@functools.cache
def _model(service: str) -> Any:
    return _session.get_service_model(service)


@functools.cache
def _pattern(text: str) -> re.Pattern[str] | None:
    """A model pattern as Python regex, None when it uses Java-only syntax (then unchecked)."""
    try:
        return re.compile(text, re.ASCII)
    except re.error:
        return None


def _matches(text: str, value: str) -> bool:
    pattern = _pattern(text)
    if pattern is None:
        return True
    # AWS's older (Coral) services match the whole value, like Java's String.matches; a pattern
    # that writes its own anchors says where it is anchored.
    if text.startswith("^") or text.endswith("$"):
        return pattern.search(value) is not None
    return pattern.fullmatch(value) is not None


# Envelope ---------------------------------------------------------------------------------------
def envelope(http: Request) -> None:
    """Refuse bodies too large or too deeply nested for any valid request, before parsing."""
    http.max_content_length = MAX_BODY_BYTES
    try:
        body = http.get_data(cache=True)
    except RequestEntityTooLarge as exc:
        raise AwsError(
            "RequestEntityTooLarge",
            f"Request body is larger than the lab's limit of {MAX_BODY_BYTES} bytes",
            413,
        ) from exc
    if http.path.startswith("/service/") and "/operation/" in http.path:
        try:
            protocol.cbor_loads(body, max_depth=MAX_DEPTH) if body else None
        except ValueError as exc:
            raise AwsError(
                "SerializationException", f"request body is not valid CBOR: {exc}"
            ) from exc
    elif http.headers.get("X-Amz-Target") and json_depth(body) > MAX_DEPTH:
        raise AwsError(
            "SerializationException",
            f"Request body nests deeper than {MAX_DEPTH} levels",
        )


def json_depth(body: bytes) -> int:
    """Nesting depth of a JSON text (strings skipped), without parsing it."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    for match in _BRACKET_RE.finditer(_STRING_RE.sub(b"", body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


# Parameters -------------------------------------------------------------------------------------
class _Problems:
    """Validation findings of one request, in AWS's wording."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.messages: list[str] = []
        self.missing: list[str] = []

    def add(self, path: str, value: Any, constraint: str, shape: Shape) -> None:
        where = _aws_path(path)
        if shape.metadata.get("sensitive") or value is None:
            self.messages.append(f"Value at '{where}' failed to satisfy constraint: {constraint}")
            return
        shown = str(value)
        if len(shown) > 64:
            shown = shown[:64] + "..."
        shown = shown.replace("\x00", "\\u0000")
        self.messages.append(
            f"Value '{shown}' at '{where}' failed to satisfy constraint: {constraint}"
        )


class _TypeMismatch(Exception):
    def __init__(self, path: str, expected: str) -> None:
        super().__init__(path)
        self.path = path
        self.expected = expected


def _aws_path(path: str) -> str:
    return ".".join(part[:1].lower() + part[1:] for part in path.split(".")) if path else ""


def _type_ok(shape: Shape, value: Any) -> bool:
    kind = shape.type_name
    if kind in ("structure", "map"):
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    if kind in ("string", "blob"):
        return isinstance(value, str | bytes) if kind == "blob" else isinstance(value, str)
    if kind in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("float", "double"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "timestamp":
        return isinstance(value, int | float | str) and not isinstance(value, bool)
    return True


def _blob_len(value: str | bytes) -> int | None:
    if isinstance(value, bytes):
        return len(value)
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return None


def _length(shape: Shape, value: Any, path: str, out: _Problems) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is None and high is None:
        return
    kind = shape.type_name
    size = _blob_len(value) if kind == "blob" else len(value)
    if size is None:
        return
    if low is not None and size < low:
        out.add(path, value, f"Member must have length greater than or equal to {low}", shape)
    if high is not None and size > high:
        out.add(path, value, f"Member must have length less than or equal to {high}", shape)


def _walk(service: str, shape: Shape, value: Any, path: str, out: _Problems) -> None:
    if value is None:
        return
    if not _type_ok(shape, value):
        raise _TypeMismatch(path, shape.type_name)
    kind = shape.type_name
    if kind == "structure":
        if shape.metadata.get("document"):
            return
        members = shape.members  # type: ignore[attr-defined]
        for name in shape.required_members:  # type: ignore[attr-defined]
            if value.get(name) is None:
                where = f"{path}.{name}" if path else name
                out.missing.append(where)
                out.add(where, None, "Member must not be null", members[name])
        if (service, shape.name) in STRICT_SHAPES:
            for name in value:
                if name not in members:
                    out.add(f"{path}.{name}", value[name], "Member is not supported", shape)
        for name, member in members.items():
            if name in value:
                _walk(service, member, value[name], f"{path}.{name}" if path else name, out)
    elif kind == "list":
        before = len(out.messages)
        _length(shape, value, path, out)
        if len(out.messages) > before:
            return  # refused for its length: its items need not be read
        for index, item in enumerate(value):
            _walk(service, shape.member, item, f"{path}.{index + 1}.member", out)  # type: ignore[attr-defined]
    elif kind == "map":
        before = len(out.messages)
        _length(shape, value, path, out)
        if len(out.messages) > before:
            return
        for k, v in value.items():
            _walk(service, shape.key, k, f"{path}.key", out)  # type: ignore[attr-defined]
            _walk(service, shape.value, v, f"{path}.{k}", out)  # type: ignore[attr-defined]
    elif kind in ("integer", "long", "float", "double"):
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            out.add(path, value, f"Member must have value greater than or equal to {low}", shape)
        if high is not None and value > high:
            out.add(path, value, f"Member must have value less than or equal to {high}", shape)
    elif kind in ("string", "blob"):
        _length(shape, value, path, out)
        if kind == "string":
            enum = shape.enum
            if enum and value not in enum:
                out.add(
                    path, value, f"Member must satisfy enum value set: [{', '.join(enum)}]", shape
                )
            pattern = shape.metadata.get("pattern")
            if pattern and isinstance(value, str) and not _matches(pattern, value):
                out.add(
                    path,
                    value,
                    f"Member must satisfy regular expression pattern: {pattern}",
                    shape,
                )


# Query protocols: flat `Name.member.1.Key=value` pairs into the shape's structure -------------
def _query_name(name: str, shape: Shape, ec2: bool) -> str:
    if ec2:
        query = shape.serialization.get("queryName")
        if query:
            return str(query)
        location = shape.serialization.get("name")
        return str(location[:1].upper() + location[1:]) if location else name
    return str(shape.serialization.get("name", name))


def _children(params: dict[str, str]) -> dict[str, set[str]]:
    """Each dotted prefix of the parameter names -> the segments that follow it, built once, so
    that rebuilding the structure stays linear in the number of parameters (a hostile body can
    carry hundreds of thousands)."""
    children: dict[str, set[str]] = {}
    for key in params:
        end = len(key)
        while True:
            cut = key.rfind(".", 0, end)
            prefix = key[:cut] if cut >= 0 else ""
            known = prefix in children
            children.setdefault(prefix, set()).add(key[cut + 1 : end])
            if known or cut < 0:
                break  # the prefix's own ancestors were registered when it was first seen
            end = cut
    return children


def _indices(keys: dict[str, set[str]], prefix: str) -> list[int]:
    return sorted(int(part) for part in keys.get(prefix, ()) if part.isdigit() and len(part) < 10)


def _from_query(
    shape: Shape, params: dict[str, str], keys: dict[str, set[str]], prefix: str, ec2: bool
) -> Any:
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            key = _query_name(name, member, ec2)
            child = f"{prefix}.{key}" if prefix else key
            if child in params or child in keys:
                value = _from_query(member, params, keys, child, ec2)
                if value is not None:
                    out[name] = value
        return out
    if kind == "list":
        if params.get(prefix) == "":
            return []
        member = shape.member  # type: ignore[attr-defined]
        if ec2 or shape.serialization.get("flattened"):
            base = prefix
        else:
            base = f"{prefix}.{member.serialization.get('name', 'member')}"
        indices = _indices(keys, base)
        high = shape.metadata.get("max")
        if high is not None and len(indices) > high:
            indices = indices[: high + 1]  # enough to be refused for its length; no more work
        return [_from_query(member, params, keys, f"{base}.{i}", ec2) for i in indices]
    if kind == "map":
        base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        key_name = shape.key.serialization.get("name", "key")  # type: ignore[attr-defined]
        value_name = shape.value.serialization.get("name", "value")  # type: ignore[attr-defined]
        result: dict[str, Any] = {}
        for i in _indices(keys, base):
            k = params.get(f"{base}.{i}.{key_name}")
            if k is not None:
                result[k] = _from_query(
                    shape.value,  # type: ignore[attr-defined]
                    params,
                    keys,
                    f"{base}.{i}.{value_name}",
                    ec2,
                )
        return result
    raw = params.get(prefix)
    if raw is None:
        return None
    if kind in ("integer", "long"):
        try:
            return int(raw.strip())
        except ValueError:
            raise _TypeMismatch(prefix, kind) from None
    if kind in ("float", "double"):
        try:
            return float(raw)
        except ValueError:
            raise _TypeMismatch(prefix, kind) from None
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise _TypeMismatch(prefix, kind)
        return raw.lower() == "true"
    return raw


# Entry point ------------------------------------------------------------------------------------
def _fail(protocol: str, service: str, code_kind: str, message: str) -> AwsError:
    if protocol == "ec2":
        code = "MissingParameter" if code_kind == "missing" else "InvalidParameterValue"
        return AwsError(code, message)
    if protocol == "query":
        return AwsError("ValidationError", message)
    if code_kind == "type":
        return AwsError("SerializationException", message)
    return AwsError("ValidationException", message)


def check(service: str, operation: str, params: dict[str, Any], protocol: str = "json") -> None:
    """Raise the AWS error for params that do not fit the operation's input shape."""
    if service not in SERVED:
        return
    try:
        model = _model(service).operation_model(operation)
    except OperationNotFoundError as exc:
        if protocol in ("query", "ec2"):
            if not operation:
                raise AwsError(
                    "MissingAction", "The request must contain the parameter Action"
                ) from exc
            raise AwsError(
                "InvalidAction",
                f"Could not find operation {operation} for version {_model(service).api_version}",
            ) from exc
        raise AwsError(
            "UnknownOperationException", f"Unknown operation {service}:{operation}"
        ) from exc
    shape = model.input_shape
    if shape is None:
        return
    problems = _Problems(service)
    try:
        if protocol in ("query", "ec2"):
            flat = {k: v for k, v in params.items() if k not in ("Action", "Version")}
            params = _from_query(shape, flat, _children(flat), "", protocol == "ec2")
        _walk(service, shape, params, "", problems)
    except _TypeMismatch as exc:
        where = _aws_path(exc.path) or "the request"
        raise _fail(
            protocol, service, "type", f"Unexpected value type for {where}: expected {exc.expected}"
        ) from None
    if problems.messages:
        count = len(problems.messages)
        noun = "error" if count == 1 else "errors"
        kind = "missing" if problems.missing and count == len(problems.missing) else "value"
        if protocol == "ec2" and kind == "missing":
            message = f"The request must contain the parameter {problems.missing[0]}"
        else:
            message = f"{count} validation {noun} detected: " + "; ".join(problems.messages[:10])
        raise _fail(protocol, service, kind, message)


def request(req: Any) -> None:
    """Validate one parsed request (a protocol.AwsRequest) before any lab logic sees it."""
    check(req.service, req.operation, req.params, req.protocol)


def upstream_refusal(req: Any, status: int, body: bytes) -> AwsError | None:
    """The AWS-shaped error for an upstream answer that AWS would never give (HTML, a 5xx, or a
    4xx without an error code): the emulator could not process input AWS would refuse, so the
    caller gets the protocol's validation error instead of the emulator's page."""
    text = body[:4096].decode("utf-8", "replace")
    aws_shaped = "<Code>" in text or '"__type"' in text or '"code"' in text.lower()
    html = text.lstrip().lower().startswith(("<!doctype html", "<html"))
    if status < 400 or (status < 500 and aws_shaped and not html):
        return None
    detail = f"the lab's upstream could not process this {req.service} {req.operation} request (HTTP {status})"
    return _fail(req.protocol, req.service, "value", detail)


def grant_constraints_ok(constraints: Any) -> bool:
    """Whether a stored grant's Constraints can be evaluated (the shape CreateGrant admits)."""
    if constraints is None:
        return True
    if not isinstance(constraints, dict):
        return False
    for name, value in constraints.items():
        if name not in ("EncryptionContextSubset", "EncryptionContextEquals"):
            return False
        if value is None:
            continue
        if not isinstance(value, dict):
            return False
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return False
    return True
