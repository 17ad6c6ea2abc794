"""Print the contract's finding-code table (contract section 4) as the registry generates it:
``python -m harness.diagnosis.contract_table``."""

from __future__ import annotations

from harness.diagnosis.registry import finding_table

if __name__ == "__main__":
    print(finding_table(), end="")
