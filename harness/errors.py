"""Error types that map to the contract's exit codes (contract section 1).

Code that can fail because of what a user gave it raises one of these with a
message that is complete on one line; the CLI prints it and exits with
``exit_code``. Anything else is a bug and exits 1.
"""

from __future__ import annotations


class KmslabError(Exception):
    """Base class: an expected failure with a one-line message for the user."""

    exit_code = 1


class UsageError(KmslabError):
    """Bad input or usage: malformed file, unknown scenario id, wrong option (exit 2)."""

    exit_code = 2


class EndpointError(KmslabError):
    """An endpoint or upstream could not be reached (exit 3)."""

    exit_code = 3
