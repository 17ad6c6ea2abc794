"""Diagnosis: turn evidence into the root cause to fix first, its proof and the exact fix.

from harness.diagnosis import diagnose
report = diagnose(bundle)     # report.decision, .primary, .findings, .unreadable, .to_dict()
headline(report), is_healthy(report)  # the one meaning of healthy; also on report.to_dict()
"""

from harness.diagnosis.engine import diagnose
from harness.diagnosis.model import Diagnosis, Evidence, Finding, Fix
from harness.diagnosis.verdict import HEALTHY, headline, is_healthy

__all__ = [
    "HEALTHY",
    "Diagnosis",
    "Evidence",
    "Finding",
    "Fix",
    "diagnose",
    "headline",
    "is_healthy",
]
