"""The layering of docs/architecture.md ("Layers"), checked on the import graph: a package
imports only the packages listed for it, all of them lower, so no arrow runs back up (the
lab never imports the diagnosis, the diagnosis never imports the lab or the scenarios)."""

from __future__ import annotations

from .imports import graph

# Bottom to top; each package may import the ones listed (all below it).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "paths": set(),
    "aws": {"errors"},
    "policy": {"aws", "errors"},
    "evidence": {"aws", "errors"},
    "lab": {"policy", "aws", "errors", "paths"},
    "tfcli": {"errors", "paths"},
    "diagnosis": {"policy", "aws", "errors"},
    "scenarios": {"diagnosis", "evidence", "lab", "policy", "aws", "tfcli", "errors", "paths"},
    "workshop": {
        "scenarios",
        "diagnosis",
        "evidence",
        "lab",
        "policy",
        "aws",
        "tfcli",
        "errors",
        "paths",
    },
}
TOP = {"cli", "pytest_plugin", "__main__", "harness"}  # may import anything


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "harness"


def test_every_package_is_placed_in_a_layer() -> None:
    packages = {_package(m) for m in graph()}
    assert packages <= set(ALLOWED) | TOP, packages - set(ALLOWED) - TOP


def test_no_import_runs_up_the_layers() -> None:
    wrong = sorted(
        f"{a} imports {b}"
        for a, targets in graph().items()
        for b in targets
        if _package(a) not in TOP
        and _package(b) != _package(a)
        and _package(b) not in ALLOWED[_package(a)]
    )
    assert not wrong, "\n".join(wrong)


def test_the_table_itself_has_no_cycle() -> None:
    # Every listed dependency sits strictly lower: ordering by the table is possible.
    placed: list[str] = []
    remaining = dict(ALLOWED)
    while remaining:
        ready = [p for p, deps in remaining.items() if deps <= set(placed)]
        assert ready, f"the layer table has a cycle among {sorted(remaining)}"
        placed += sorted(ready)
        for p in ready:
            del remaining[p]
