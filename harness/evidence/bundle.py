"""Evidence bundles on disk: validate, write atomically, load with clear errors, redact."""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.exceptions

from harness.errors import UsageError
from harness.evidence.redact import redact_bundle

__all__ = ["bundle_schema", "load_bundle", "redact_bundle", "validate_bundle", "write_bundle"]


@cache
def bundle_schema() -> dict[str, Any]:
    text = resources.files("harness.evidence").joinpath("bundle_schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_bundle(bundle: Any, source: str = "bundle") -> dict[str, Any]:
    """Return `bundle` if it is a contract section 3 bundle; else UsageError naming the JSON path."""
    validator = jsonschema.Draft202012Validator(bundle_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(bundle))
    if error is not None:
        where = _json_path(error)
        raise UsageError(f"{source}: not a kms-evidence-bundle v1: at {where}: {_reason(error)}")
    assert isinstance(bundle, dict)
    return bundle


def load_bundle(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"bundle not found: {path}") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"bundle path is a directory: {path}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not a text file (UTF-8 JSON expected)") from exc
    except OSError as exc:
        raise UsageError(f"cannot read bundle {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    return validate_bundle(data, str(path))


def write_bundle(path: str | Path, bundle: dict[str, Any]) -> Path:
    """Validate and write `bundle`; the file appears complete or not at all."""
    path = Path(path)
    validate_bundle(bundle, "bundle to write")
    text = json.dumps(bundle, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write bundle {path}: directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _json_path(error: jsonschema.exceptions.ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _reason(error: jsonschema.exceptions.ValidationError) -> str:
    if error.validator == "oneOf" and isinstance(error.instance, dict):
        has = [k for k in ("response", "error") if k in error.instance]
        if not has:
            return "a call needs a 'response' or an 'error'"
        return "a call has either 'response' or 'error', not both"
    return error.message.splitlines()[0]
