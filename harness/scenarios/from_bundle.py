"""`kmslab scenarios from-bundle`: kept as the import path; the rebuild lives in
harness.scenarios.rebuild (one module per part of the setup)."""

from harness.scenarios.rebuild import scenario_from_bundle

__all__ = ["scenario_from_bundle"]
