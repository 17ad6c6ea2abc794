"""Binds every feature file under features/ (steps live in conftest.py)."""

from pytest_bdd import scenarios

scenarios(".")
