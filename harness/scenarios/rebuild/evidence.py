"""Reading a bundle for rebuilding: the responses it recorded, by service and operation.

Unlike the diagnosis, a rebuild needs every response of an operation (one per account and
Region the investigation read), and the documents inside them parsed whatever form they took:
boto3 returns IAM documents as objects, the AWS CLI prints them so, and hand-written bundles
paste them as JSON text or URL-encoded text (the raw IAM API form).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.diagnosis.facts import parse_policy


@dataclass(frozen=True)
class Read:
    """One recorded call that has a response."""

    service: str
    operation: str
    region: str | None
    account: str | None
    params: dict[str, Any]
    response: dict[str, Any]


class Evidence:
    def __init__(self, bundle: dict[str, Any]) -> None:
        self.bundle = bundle
        self.request: dict[str, Any] = dict(bundle.get("request") or {})
        self.reads: list[Read] = []
        self.refused: list[tuple[str, str, str]] = []  # (service, operation, error code)
        for call in bundle.get("calls") or []:
            if not isinstance(call, dict):
                continue
            service, operation = str(call.get("service", "")), str(call.get("operation", ""))
            if isinstance(call.get("response"), dict):
                self.reads.append(
                    Read(
                        service,
                        operation,
                        call.get("region"),
                        call.get("account"),
                        dict(call.get("params") or {}),
                        call["response"],
                    )
                )
            elif isinstance(call.get("error"), dict):
                self.refused.append((service, operation, str(call["error"].get("code", ""))))

    def all(self, service: str, operation: str) -> list[Read]:
        return [r for r in self.reads if r.service == service and r.operation == operation]

    def first(self, service: str, operation: str) -> dict[str, Any] | None:
        found = self.all(service, operation)
        return found[0].response if found else None

    def was_refused(self, service: str, operation: str) -> bool:
        return any(s == service and o == operation for s, o, _ in self.refused)


def document(value: Any) -> dict[str, Any] | None:
    """A policy document from an object, JSON text or URL-encoded JSON text."""
    return parse_policy(value)


def statements(doc: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not doc:
        return []
    value = doc.get("Statement")
    items = value if isinstance(value, list) else [value]
    return [s for s in items if isinstance(s, dict)]


def aws_principals(statement: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) of a statement's Principal or NotPrincipal: AWS, Service, Federated, ..."""
    value = statement.get("Principal", statement.get("NotPrincipal"))
    if value == "*" or value is None:
        return []
    out: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for kind, items in value.items():
            for item in items if isinstance(items, list) else [items]:
                out.append((str(kind), str(item)))
    return out
