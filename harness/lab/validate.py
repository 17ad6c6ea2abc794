"""Request validation against the AWS API model, as AWS's front end does it before any
service logic: wrong JSON types are SerializationException, missing required members and
values outside an enum are ValidationException ("1 validation error detected: ...")."""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from botocore.model import OperationNotFoundError, Shape

from harness.lab.errors import AwsError

_session = botocore.session.get_session()


@functools.cache
def _model(service: str) -> Any:
    return _session.get_service_model(service)


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _type_ok(shape: Shape, value: Any) -> bool:
    kind = shape.type_name
    if kind == "structure" or kind == "map":
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    if kind in ("string", "blob"):
        return isinstance(value, str)
    if kind in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("float", "double"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "timestamp":
        return isinstance(value, int | float | str) and not isinstance(value, bool)
    return True


def _walk(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if value is None:
        return
    if not _type_ok(shape, value):
        raise AwsError(
            "SerializationException",
            f"Unexpected value type for {path or 'the request'}: expected {shape.type_name}",
        )
    kind = shape.type_name
    if kind == "structure":
        members = shape.members  # type: ignore[attr-defined]
        for name in shape.required_members:  # type: ignore[attr-defined]
            if value.get(name) is None:
                errors.append(
                    f"Value null at '{_camel(name)}' failed to satisfy constraint: Member must not be null"
                )
        for name, member in members.items():
            if name in value:
                _walk(member, value[name], f"{path}.{name}" if path else name, errors)
    elif kind == "list":
        for index, item in enumerate(value):
            _walk(shape.member, item, f"{path}[{index}]", errors)  # type: ignore[attr-defined]
    elif kind == "map":
        for k, v in value.items():
            _walk(shape.key, k, f"{path}.key", errors)  # type: ignore[attr-defined]
            _walk(shape.value, v, f"{path}.{k}", errors)  # type: ignore[attr-defined]
    elif kind == "string":
        enum = shape.enum
        if enum and value not in enum:
            errors.append(
                f"Value '{value}' at '{_camel(path.rsplit('.', 1)[-1])}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(enum)}]"
            )


def check(service: str, operation: str, params: dict[str, Any]) -> None:
    """Raise the AWS error for params that do not fit the operation's input shape."""
    try:
        model = _model(service).operation_model(operation)
    except OperationNotFoundError as exc:
        raise AwsError(
            "UnknownOperationException", f"Unknown operation {service}:{operation}"
        ) from exc
    shape = model.input_shape
    if shape is None:
        return
    errors: list[str] = []
    _walk(shape, params, "", errors)
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        raise AwsError(
            "ValidationException", f"{count} validation {noun} detected: " + "; ".join(errors)
        )
