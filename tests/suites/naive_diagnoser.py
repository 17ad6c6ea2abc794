"""A deliberately naive diagnoser for the scoring tests: it answers from the observed error
code alone, as a first on-call guess would, and never reads the evidence."""

from __future__ import annotations

import json
import sys

# The guess per observed error code (AWS's KMS error codes, kms/latest/APIReference/API_Decrypt.html).
NAIVE = {
    "AccessDeniedException": "KEY_POLICY_NO_ALLOW",
    "DisabledException": "KEY_DISABLED",
    "KMSInvalidStateException": "KEY_PENDING_DELETION",
    "NotFoundException": "KEY_NOT_FOUND",
    "InvalidCiphertextException": "CIPHERTEXT_INVALID",
    "IncorrectKeyException": "INCORRECT_KEY",
    "InvalidKeyUsageException": "KEY_USAGE_MISMATCH",
}
HEALTHY = "NO_FAULT_FOUND"


def answer(observed_code: str | None) -> str:
    if not observed_code:
        return HEALTHY
    return NAIVE.get(observed_code, "UNKNOWN_ERROR")


def main(path: str) -> int:
    with open(path) as f:
        bundle = json.load(f)
    observed = bundle.get("request", {}).get("observed_error") or {}
    print(answer(observed.get("code")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
