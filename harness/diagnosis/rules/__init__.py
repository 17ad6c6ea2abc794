"""One module per finding code (contract section 4); loaded by harness.diagnosis.registry."""
