"""Helpers shared by the evidence tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from harness.evidence.collect import CollectionResult

MOTO_ACCOUNT = "123456789012"  # moto's account for any credentials it did not issue

Collect = Callable[..., CollectionResult]


def calls(bundle: dict[str, Any], service: str, operation: str) -> list[dict[str, Any]]:
    return [c for c in bundle["calls"] if c["service"] == service and c["operation"] == operation]


def one(bundle: dict[str, Any], service: str, operation: str, **params: Any) -> dict[str, Any]:
    found = [
        c for c in calls(bundle, service, operation)
        if all(c.get("params", {}).get(k) == v for k, v in params.items())
    ]  # fmt: skip
    assert len(found) == 1, f"{service}:{operation} {params}: {len(found)} calls in the bundle"
    return found[0]


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def deny_with(code: str, message: str, operations: set[str]) -> Callable[[Any, str], None]:
    """A client hook answering the named "service:Operation"s with an AWS error, as AWS would.

    Real AWS answers a missing permission with an error response; this short-circuits the
    HTTP call with such a response (botocore's before-call contract) so the degradation
    path runs exactly as it would against AWS.
    """
    from botocore.awsrequest import AWSResponse

    def hook(client: Any, service: str) -> None:
        def answer(model: Any, **_: Any) -> Any:
            if f"{service}:{model.name}" not in operations:
                return None
            http = AWSResponse("https://stubbed.invalid", 400, {}, None)
            parsed = {
                "Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            return http, parsed

        client.meta.events.register("before-call.*.*", answer)

    return hook
