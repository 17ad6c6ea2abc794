"""Diagnosis: turn evidence into the root cause to fix first, its proof and the exact fix.

from harness.diagnosis import diagnose
report = diagnose(bundle)     # report.decision, .primary, .findings, .unreadable, .to_dict()
"""

from harness.diagnosis.engine import diagnose
from harness.diagnosis.model import Diagnosis, Evidence, Finding, Fix

__all__ = ["Diagnosis", "Evidence", "Finding", "Fix", "diagnose"]
