"""A seeded request generator derived from botocore's service models, for the lab's fuzz suite.

Each request is built from an operation's input shape: members are filled with values that
mostly fit the model (enums, lengths, ranges; known resource names so calls reach the lab's
logic), then, for the hostile rounds, one member is replaced with a hostile value (wrong
type, empty, NUL, lone surrogate, huge, deeply nested, unknown member). The request is
serialized with botocore's own serializer for the service's protocol and signed with SigV4,
so it is exactly what an SDK (or someone imitating one) puts on the wire.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import urllib.parse
from dataclasses import dataclass
from typing import Any

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.serialize
import botocore.session
import cbor2
from botocore.model import OperationModel, Shape

_session = botocore.session.get_session()
HOSTILE_STRINGS = [
    "",
    "\x00",
    "a\x00b",
    "\ud800",
    "x" * 3000,
    "💥" * 40,
    "<html><body>x</body></html>",
    "../../../etc/passwd",
    "' OR 1=1 --",
    "%00%ff",
    "arn:aws:kms:us-east-1:999999999999:key/" + "f" * 36,
    "-1",
    "99999999999999999999999",
    "true",
    "null",
]
HOSTILE_JSON: list[Any] = [
    *HOSTILE_STRINGS,
    -1,
    2**63,
    -(2**63) - 1,
    1.5e308,
    True,
    None,
    [],
    {},
    {"x": 1},
    [[["deep"]]],
    ["x"] * 200,
    {"k" * 200: "v" * 300},
]


@dataclass
class Built:
    service: str
    operation: str
    protocol: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    mutated: str | None


def model(service: str) -> Any:
    return _session.get_service_model(service)


class Generator:
    def __init__(self, seed: int, known: dict[str, list[str]]) -> None:
        self.rng = random.Random(seed)
        self.known = known
        self._serializers: dict[str, Any] = {}

    # values that mostly fit the model --------------------------------------------------------
    def value(self, name: str, shape: Shape, depth: int = 0) -> Any:
        kind = shape.type_name
        rng = self.rng
        if name in self.known and kind == "string" and rng.random() < 0.8:
            return rng.choice(self.known[name])
        if kind == "structure":
            if depth > 4 or shape.metadata.get("document"):
                return {}
            out: dict[str, Any] = {}
            required = set(shape.required_members)  # type: ignore[attr-defined]
            for member, sub in shape.members.items():  # type: ignore[attr-defined]
                if member in required or rng.random() < 0.35:
                    out[member] = self.value(member, sub, depth + 1)
            return out
        if kind == "list":
            if depth > 4:
                return []
            low = shape.metadata.get("min", 0)
            count = max(low, rng.randint(0, 2))
            member = shape.member  # type: ignore[attr-defined]
            if name in self.known and member.type_name == "string":
                return [rng.choice(self.known[name]) for _ in range(max(count, 1))]
            return [self.value(name, member, depth + 1) for _ in range(count)]
        if kind == "map":
            if depth > 4:
                return {}
            return {
                self.value("key", shape.key, depth + 1): self.value(  # type: ignore[attr-defined]
                    "value",
                    shape.value,  # type: ignore[attr-defined]
                    depth + 1,
                )
                for _ in range(rng.randint(0, 2))
            }
        if kind in ("integer", "long"):
            low = shape.metadata.get("min", 0)
            high = shape.metadata.get("max", max(low, 0) + 100)
            return rng.randint(int(low), int(min(high, low + 1000)))
        if kind in ("float", "double"):
            return rng.random() * 10
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "timestamp":
            return dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=rng.randint(0, 9999))
        if kind == "blob":
            low = shape.metadata.get("min", 1)
            high = shape.metadata.get("max", 64)
            return rng.randbytes(rng.randint(int(low), int(min(high, max(low, 1) + 64))))
        if shape.enum:
            return rng.choice(shape.enum)
        low = int(shape.metadata.get("min", 1))
        high = int(shape.metadata.get("max", 24))
        length = rng.randint(max(low, 1), max(low, min(high, 24)))
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(rng.choice(alphabet) for _ in range(length))

    def params(self, op: OperationModel) -> dict[str, Any]:
        shape = op.input_shape
        if shape is None:
            return {}
        value = self.value("", shape)
        return value if isinstance(value, dict) else {}

    # the wire ---------------------------------------------------------------------------------
    def _serializer(self, protocol: str) -> Any:
        if protocol not in self._serializers:
            self._serializers[protocol] = botocore.serialize.create_serializer(
                protocol, include_validation=False
            )
        return self._serializers[protocol]

    def build(
        self,
        endpoint: str,
        service: str,
        operation: str,
        creds: dict[str, str],
        region: str = "us-east-1",
        hostile: bool = False,
    ) -> Built:
        svc = model(service)
        op = svc.operation_model(operation)
        protocol = svc.protocol
        params = self.params(op)
        try:
            request = self._serializer(protocol).serialize_to_request(params, op)
        except (TypeError, ValueError, KeyError, AttributeError):
            request = self._serializer(protocol).serialize_to_request({}, op)
        body: Any = request["body"]
        mutated = None
        if hostile:
            body, mutated = self._mutate(protocol, op, body)
        if isinstance(body, dict):
            # surrogatepass: a lone surrogate goes on the wire as invalid UTF-8, on purpose
            body = urllib.parse.urlencode(body, errors="surrogatepass").encode()
        elif isinstance(body, str):
            body = body.encode()
        path = request["url_path"] or "/"
        if request.get("query_string"):
            path += "?" + urllib.parse.urlencode(request["query_string"])
        url = endpoint + path
        headers = {k: v for k, v in request["headers"].items()}
        if protocol in ("query", "ec2"):
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        aws = botocore.awsrequest.AWSRequest(
            method=request["method"], url=url, data=body, headers=headers
        )
        credentials = botocore.credentials.Credentials(
            creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("SessionToken")
        )
        botocore.auth.SigV4Auth(credentials, svc.signing_name, region).add_auth(aws)
        return Built(
            service,
            operation,
            protocol,
            request["method"],
            url,
            dict(aws.headers.items()),
            body or b"",
            mutated,
        )

    def _mutate(self, protocol: str, op: OperationModel, body: Any) -> tuple[Any, str]:
        rng = self.rng
        members = list(op.input_shape.members) if op.input_shape is not None else []
        name = rng.choice(members) if members and rng.random() < 0.85 else "NotInTheModel"
        if protocol in ("query", "ec2"):
            fields = dict(body) if isinstance(body, dict) else {}
            targets = [k for k in fields if k.split(".")[0] == name] or [name]
            target = rng.choice(targets)
            value = rng.choice(HOSTILE_STRINGS)
            fields[target] = value
            return fields, f"{target}={value[:20]!r}"
        if protocol == "json":
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                data = {}
            if rng.random() < 0.05:
                return b"[" * 600 + b"]" * 600, "600-deep array"
            value = rng.choice(HOSTILE_JSON)
            data[name] = value
            return json.dumps(data).encode(), f"{name}={str(value)[:20]!r}"
        data = cbor2.loads(body) if body else {}
        if not isinstance(data, dict):
            data = {}
        value = rng.choice([v for v in HOSTILE_JSON if not isinstance(v, float)])
        if isinstance(value, str) and "\ud800" in value:
            value = "x"
        data[name] = value
        return cbor2.dumps(data), f"{name}={str(value)[:20]!r}"
