"""Lab state that survives a restart: `kmslab lab save FILE` and `kmslab lab up --state FILE`.

The document (`kmslab-lab-state`, version 1) is JSON, written atomically (temporary file in
the same directory, fsync, rename) with mode 0600:

```json
{"kind": "kmslab-lab-state", "version": 1, "saved_at": "...",
 "versions": {"kmslab": "...", "moto": "...", "python": "3.11"},
 "upstream": "moto",
 "summary": {"keys": 3, "aliases": 1, "grants": 0, "issued_credentials": 2, ...},
 "controls": {...},
 "sections": {"workshop": {...}},
 "lab": "<base64>", "moto": {"iam": "<base64>", "ec2": "...", "logs": "...", "sts": "..."}}
```

`controls` and `sections` are plain JSON. `sections` is the extension point: any component
puts a JSON value under a name (Python: `lab.sections[name] = value`; HTTP:
`PUT /_kmslab/state/sections/NAME`) and reads it back after a restore.

`lab` and `moto` are pickles of the lab's own stores and of embedded moto's backends (IAM,
STS, EC2, CloudWatch Logs). Pickling keeps every identifier, secret, key material and object
sharing (a multi-Region replica shares its primary's material; a grant is reachable from its
key and from its token) without a hand-written schema that would fall behind the stores; the
price is that a state file only loads into the same kmslab, moto and Python versions (checked,
bad input otherwise), and that it is trusted input like a script: loading resolves only classes
of kmslab, moto, cryptography and the standard containers (nothing that can run a command), and
the file is written readable by its owner only. With a LocalStack or URL upstream only the
lab's part is kept; the upstream keeps its own state (LocalStack: its PERSISTENCE setting).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import pickle
import sys
import tempfile
import threading
import types
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from harness.errors import UsageError

if TYPE_CHECKING:
    from harness.lab.gateway import LabGateway

KIND = "kmslab-lab-state"
VERSION = 1
MOTO_SERVICES = ("iam", "sts", "ec2", "logs")
# Attributes that are wiring, not state: references back to the lab or the upstream, locks.
WIRING = {"lab", "upstream", "lock", "_lock", "handlers"}
# The lab components whose attributes are state, by attribute name on Lab.
COMPONENTS = ("identities", "controls", "kms_store", "orgs", "trail", "authz", "room_board")
LAB_SETS = ("accounts_seen", "regions_seen")
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))
_ALLOWED_MODULES = (
    "harness.lab.",
    "moto.",
    "cryptography.",
    "datetime",
    "collections",
    "copyreg",
    "_thread",
    "threading",
    "uuid",
    "decimal",
    "re",
    "enum",
    "ipaddress",
    "dateutil.tz",
    "zoneinfo",
)
_SAFE_BUILTINS = {
    "set",
    "frozenset",
    "dict",
    "list",
    "tuple",
    "bytes",
    "bytearray",
    "object",
    "int",
    "float",
    "str",
    "bool",
    "complex",
    "range",
    "slice",
}


def _private_key(der: bytes) -> Any:
    return serialization.load_der_private_key(der, password=None)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK_TYPES):
            return (threading.RLock if "RLock" in type(obj).__name__ else threading.Lock, ())
        if isinstance(obj, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            der = obj.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return (_private_key, (der,))
        return NotImplemented


def _safe_getattr(obj: Any, name: str) -> Any:
    """getattr for pickled bound methods, without reaching private attributes or modules."""
    if name.startswith("_") or isinstance(obj, types.ModuleType):
        raise pickle.UnpicklingError(f"state file asks for attribute {name!r}, not allowed")
    value = getattr(obj, name)
    if isinstance(value, types.ModuleType):
        raise pickle.UnpicklingError(f"state file asks for module {name!r}, not allowed")
    return value


# Callables a state file may name besides classes: the pickle protocol's own helpers and the
# reducers above. Any other function (which could write files or start processes when called
# with arguments from the file) is refused.
_FUNCTIONS = {
    ("copyreg", "_reconstructor"),
    ("copyreg", "__newobj__"),
    ("copyreg", "__newobj_ex__"),
    ("harness.lab.state", "_private_key"),
    ("threading", "Lock"),
    ("threading", "RLock"),
    ("_thread", "allocate_lock"),
    ("_thread", "RLock"),
    ("re", "_compile"),
}


def _allowed_module(module: str) -> bool:
    return any(
        module == m.rstrip(".") or module.startswith(m if m.endswith(".") else m + ".")
        for m in _ALLOWED_MODULES
    )


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins":
            if name == "getattr":
                return _safe_getattr
            if name in _SAFE_BUILTINS:
                return super().find_class(module, name)
        elif _allowed_module(module):
            value = super().find_class(module, name)
            if (module, name) in _FUNCTIONS or (
                isinstance(value, type) and _allowed_module(value.__module__)
            ):
                return value
        raise pickle.UnpicklingError(f"state file refers to {module}.{name}, which is not allowed")


def _dumps(value: Any) -> str:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return base64.b64encode(buffer.getvalue()).decode()


def _loads(text: str) -> Any:
    return _Unpickler(io.BytesIO(base64.b64decode(text))).load()


def versions() -> dict[str, str]:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {
        "kmslab": version("kmslab"),
        "moto": version("moto"),
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
    }


def _component_state(obj: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(obj).items() if k not in WIRING}


def _summary(lab: LabGateway) -> dict[str, int]:
    keys = list(lab.kms_store.keys.values())
    return {
        "keys": len(keys),
        "aliases": len(lab.kms_store.aliases),
        "grants": sum(len(k.grants) for k in keys),
        "issued_credentials": len(getattr(lab.identities, "_by_key", {})),
        "cloudtrail_events": sum(len(v) for v in lab.trail.events.values()),
        "organization_accounts": len(lab.orgs.accounts),
    }


def snapshot(lab: LabGateway) -> dict[str, Any]:
    """The lab's state as a state document (JSON-serialisable)."""
    locks: list[Any] = [lab.kms_store.lock, lab.orgs.lock, lab.trail._lock, lab.authz._lock]
    for lock in locks:
        lock.acquire()
    try:
        own: dict[str, Any] = {
            name: _component_state(getattr(lab, name)) for name in COMPONENTS if hasattr(lab, name)
        }
        own.update({name: set(getattr(lab, name)) for name in LAB_SETS})
        lab_blob = _dumps(own)
        summary = _summary(lab)
        controls = lab.controls.snapshot()
        sections = json.loads(json.dumps(lab.sections))
    finally:
        for lock in reversed(locks):
            lock.release()
    doc: dict[str, Any] = {
        "kind": KIND,
        "version": VERSION,
        "saved_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": versions(),
        "upstream": lab.upstream.kind,
        "summary": summary,
        "controls": controls,
        "sections": sections,
        "lab": lab_blob,
        "moto": {},
    }
    if lab.upstream.kind == "moto":
        from moto.backends import get_backend

        for service in MOTO_SERVICES:
            backend = get_backend(service)  # type: ignore[call-overload]
            for attempt in range(3):  # a request may change a dict while it is pickled
                try:
                    doc["moto"][service] = _dumps(dict(backend))
                    break
                except RuntimeError:
                    if attempt == 2:
                        raise
    return doc


def check(doc: Any, source: str) -> dict[str, Any]:
    """Raise UsageError (one line) unless `doc` is a state document this kmslab can load."""
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise UsageError(f"{source} is not a kmslab lab state file (kind {KIND!r} expected)")
    if doc.get("version") != VERSION:
        raise UsageError(
            f"{source} has state version {doc.get('version')!r}; this kmslab reads {VERSION}"
        )
    saved = doc.get("versions") or {}
    here = versions()
    for name in ("kmslab", "moto", "python"):
        if saved.get(name) != here[name]:
            raise UsageError(
                f"{source} was saved by {name} {saved.get(name)}; this is {name} {here[name]}"
                " (a state file loads into the same versions only)"
            )
    if not isinstance(doc.get("lab"), str) or not isinstance(doc.get("moto"), dict):
        raise UsageError(f"{source} is damaged: its lab or moto part is missing")
    return doc


def restore(lab: LabGateway, doc: dict[str, Any], source: str = "state") -> None:
    """Load a checked state document into a freshly started lab (before it serves)."""
    doc = check(doc, source)
    try:
        own = _loads(doc["lab"])
        moto_parts = {name: _loads(blob) for name, blob in doc["moto"].items()}
    except (pickle.UnpicklingError, ValueError, EOFError, AttributeError, ImportError) as exc:
        raise UsageError(f"{source} is damaged or not allowed: {exc}") from exc
    for name in COMPONENTS:
        if name in own and hasattr(lab, name):
            vars(getattr(lab, name)).update(own[name])
    for name in LAB_SETS:
        getattr(lab, name).update(own.get(name) or set())
    lab.sections.clear()
    lab.sections.update(doc.get("sections") or {})
    if moto_parts:
        if lab.upstream.kind != "moto":
            raise UsageError(
                f"{source} holds embedded moto state; start the lab with --upstream moto"
            )
        from moto.backends import get_backend

        for service, accounts in moto_parts.items():
            live = get_backend(service)  # type: ignore[call-overload]
            live.clear()
            live.update(accounts)
    lab.iam.invalidate()
    lab.authz.invalidate_vpce()


def read(path: str | Path) -> dict[str, Any]:
    source = str(path)
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"cannot read state file {source}: {exc.strerror}") from exc
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{source} is not JSON (a damaged state file?): {exc}") from exc
    return check(doc, source)


def write(path: str | Path, doc: dict[str, Any]) -> None:
    """Write atomically: the file is either the old one or the complete new one, never half."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {target}: directory {directory} does not exist")
    data = json.dumps(doc).encode()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"cannot write {target}: {exc.strerror}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
