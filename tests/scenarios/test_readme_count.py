"""The README's catalog section counts the scenarios the catalog really holds."""

from __future__ import annotations

import re
from pathlib import Path

from harness.scenarios.catalog import load_catalog

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_states_the_catalogs_size() -> None:
    match = re.search(
        r"^(\d+) scenarios in `scenarios/<group>/<id>\.yaml`", README.read_text(), re.M
    )
    assert match, "README's catalog section no longer opens with the scenario count"
    assert int(match.group(1)) == len(load_catalog())
