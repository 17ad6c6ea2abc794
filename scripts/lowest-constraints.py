"""Print `name==floor` for every direct dependency of kmslab (and its test extra) that has a
`>=` floor, for `make test-lowest`: the lowest allowed versions, each pinned, so that a floor
a transitive package would silently raise is tested as written or fails to install."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def floors(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    out = []
    for requirement in requirements:
        match = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$", requirement)
        if not match:
            continue
        floor = re.search(r">=\s*([0-9][^,;\s]*)", match.group(3))
        if floor:
            out.append(f"{match.group(1)}=={floor.group(1)}")
    return out


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    print("\n".join(floors(root / "pyproject.toml")))
