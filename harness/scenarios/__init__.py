"""Scenario catalog, provisioning (native boto3 and Terraform), the run loop and bundle import.

from harness.scenarios.catalog import load_catalog, find
from harness.scenarios.runner import Runner
"""
