"""The scenario catalog: YAML files under scenarios/<runbook-branch>/<id>.yaml, schema-validated.

Every error names the file and the JSON path of the offending value, so a typo in one of
fifty files is found without reading them all.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from harness.errors import UsageError
from harness.paths import scenarios_dir
from harness.scenarios.model import Scenario

SCHEMA_PATH = Path(__file__).with_name("schema.json")
REF = re.compile(r"\$\{([a-z_]+)\.([a-z0-9_]+)(?:\.([a-z_]+))?\}")


def schema() -> dict[str, Any]:
    """schema.json with the finding codes of the rule registry as the enum of `finding_code`
    (a code added by a rule module, or an entry point, is accepted with no other edit)."""
    from harness.diagnosis.registry import codes

    return _schema(codes())


@functools.cache
def _schema(finding_codes: tuple[str, ...]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    data["$defs"]["finding_code"]["enum"] = list(finding_codes)
    return data


def json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validate(data: Any, where: str) -> None:
    """Schema plus cross-reference checks; raises UsageError naming `where` and the JSON path."""
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise UsageError(f"{where}: {json_path(first.absolute_path)}: {first.message}{more}")
    for path, problem in cross_reference_problems(data):
        raise UsageError(f"{where}: {path}: {problem}")


def cross_reference_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Names that point nowhere, and expectations that contradict `control`."""
    setup = data.get("setup", {})
    keys = setup.get("keys", {})
    principals = setup.get("principals", {})
    accounts = setup.get("accounts", {"app": "111111111111"})
    found: list[tuple[str, str]] = []

    def need(kind: str, names: dict[str, Any] | list[str], name: str, path: str) -> None:
        if name not in names:
            found.append((path, f"unknown {kind} {name!r}"))

    for name, key in keys.items():
        if "account" in key:
            need("account", accounts, key["account"], f"$.setup.keys.{name}.account")
        if "${key." in json.dumps(key.get("policy", {})):
            found.append((f"$.setup.keys.{name}.policy", "a key policy cannot refer to a key ARN"))
    investigator = setup.get("investigator")
    if investigator is not None:
        if "investigator" in principals:
            found.append(
                ("$.setup.principals.investigator", "the name is taken by $.setup.investigator")
            )
        if "account" in investigator:
            need("account", accounts, investigator["account"], "$.setup.investigator.account")
    for name, principal in principals.items():
        if "account" in principal:
            need("account", accounts, principal["account"], f"$.setup.principals.{name}.account")
    for i, alias in enumerate(setup.get("aliases", [])):
        need("key", keys, alias["key"], f"$.setup.aliases[{i}].key")
    for i, grant in enumerate(setup.get("grants", [])):
        need("key", keys, grant["key"], f"$.setup.grants[{i}].key")
        if not grant["grantee"].startswith("arn:") and "${" not in grant["grantee"]:
            need("principal", principals, grant["grantee"], f"$.setup.grants[{i}].grantee")
    for name, item in setup.get("data", {}).items():
        need("key", keys, item["key"], f"$.setup.data.{name}.key")
    call = data.get("call", {})
    need("principal", principals, call.get("principal", ""), "$.call.principal")
    if "ciphertext" in call:
        need("data", setup.get("data", {}), call["ciphertext"]["data"], "$.call.ciphertext.data")
    if "vpc_endpoint" in call:
        need(
            "vpc endpoint",
            setup.get("vpc_endpoints", {}),
            call["vpc_endpoint"],
            "$.call.vpc_endpoint",
        )
    if call.get("operation") in ("Decrypt", "ReEncrypt") and "ciphertext" not in call:
        found.append(("$.call.ciphertext", f"{call['operation']} needs a ciphertext"))
    for match in REF.finditer(json.dumps(data)):
        kind, name = match.group(1), match.group(2)
        named = {**principals, **({"investigator": investigator} if investigator else {})}
        table = {"key": keys, "principal": named, "account": accounts}.get(kind)
        if table is not None and name not in table:
            found.append(("$", f"reference {match.group(0)} names no {kind}"))
    expected = data.get("expected", {})
    if data.get("control"):
        if expected.get("error") is not None or expected.get("finding") != "NO_FAULT_FOUND":
            found.append(("$.expected", "a control expects no error and NO_FAULT_FOUND"))
    elif expected.get("error") is None:
        found.append(("$.expected.error", "a failing scenario needs the error it expects"))
    return found


def load_file(path: Path) -> Scenario:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read scenario file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    validate(data, str(path))
    return Scenario(data, path)


def catalog_files(root: Path | None = None) -> list[Path]:
    return sorted((root or scenarios_dir()).glob("*/*.yaml"))


@functools.cache
def _load_catalog(root: Path) -> tuple[Scenario, ...]:
    scenarios = [load_file(path) for path in catalog_files(root)]
    seen: dict[str, Path | None] = {}
    for item in scenarios:
        if item.id in seen:
            raise UsageError(f"{item.path}: id {item.id!r} also used by {seen[item.id]}")
        if item.path is not None and item.path.stem != item.id:
            raise UsageError(f"{item.path}: file name must be the id ({item.id}.yaml)")
        seen[item.id] = item.path
    return tuple(scenarios)


def load_catalog(root: Path | None = None) -> list[Scenario]:
    return list(_load_catalog((root or scenarios_dir()).resolve()))


def find(ref: str, root: Path | None = None) -> Scenario:
    """A catalog id, or the path of a scenario file."""
    path = Path(ref)
    if ref.endswith((".yaml", ".yml", ".json")) or path.is_file():
        if not path.is_file():
            raise UsageError(f"no scenario file {ref}")
        return load_file(path)
    for item in load_catalog(root):
        if item.id == ref:
            return item
    raise UsageError(f"unknown scenario id {ref!r} (see `kmslab scenarios list`)")
