"""Fixes that are the application's own call: the call corrected (key, Region, context, grant
token, ciphertext bytes), made with new credentials, with a new key, or retried once AWS's
condition has cleared. Each is run by the caller's principal; the call needs no other permission.
"""

from __future__ import annotations

import re
from typing import Any

from harness.aws import arns
from harness.diagnosis.appliers import iam_applier
from harness.diagnosis.facts import Facts
from harness.diagnosis.fixes import (
    compact,
    key_id_arg,
    needed_actions,
    policy_principal,
    region_flag,
    sh,
    statement,
)
from harness.diagnosis.model import Fix


def cli_call(
    facts: Facts,
    action: str | None = None,
    extra: str = "",
    *,
    key: str | None = None,
    region: str | None = None,
    context: dict[str, str] | None = None,
) -> str:
    """The failing call as an AWS CLI command, with the inputs a caller supplies as files (the
    bundle never holds ciphertext or plaintext): runnable once those files are in place.

    ``key``, ``region`` and ``context`` replace the bundle's values where the fix is the call
    itself; ``key=""`` leaves KeyId out (symmetric ciphertext names its key)."""
    op = (action or facts.action or "kms:Decrypt").split(":", 1)[-1]
    command = re.sub(r"(?<!^)(?=[A-Z])", "-", op).lower()
    ref = key_id_arg(facts) if key is None else key
    key_flag = f" --key-id {sh(ref)}" if ref else ""
    inputs = {
        "decrypt": f"--ciphertext-blob fileb://ciphertext.bin{key_flag}",
        "encrypt": f"--key-id {sh(ref)} --plaintext fileb://plaintext.bin",
        "re-encrypt": f"--ciphertext-blob fileb://ciphertext.bin --source-key-id {sh(ref)} --destination-key-id {sh(ref)}",
        "generate-data-key": f"--key-id {sh(ref)} --key-spec AES_256",
        "generate-data-key-without-plaintext": f"--key-id {sh(ref)} --key-spec AES_256",
    }.get(command, f"--key-id {sh(ref)}")
    used = facts.encryption_context if context is None else context
    pairs = ",".join(f"{k}={v}" for k, v in used.items())
    context_flag = f" --encryption-context {sh(pairs)}" if pairs else ""
    where = f" --region {region}" if region else region_flag(facts)
    return f"aws kms {command} {inputs}{context_flag}{extra}{where}"


def caller_fix(
    facts: Facts, summary: str, cli: str, terraform: str, notes: tuple[str, ...] = ()
) -> Fix:
    """A fix that is the application's own call, corrected: made by the caller's principal (the
    role behind a session), which needs no other permission than the call itself."""
    arn = policy_principal(facts)
    return Fix(
        summary=summary,
        cli=cli,
        terraform=terraform,
        applied_by=arn,
        applied_by_reason=f"the application's own call, made by its principal {arn}",
        notes=notes,
    )


SESSION_FILE = "session.txt"


def cli_new_session(role: str, session: str, policy: dict[str, Any] | None = None) -> str:
    """AssumeRole, and the shell then using the new session's credentials (what an SDK's
    credential provider does for the application)."""
    doc = f" --policy {sh(compact(policy))}" if policy else ""
    return (
        f"aws sts assume-role --role-arn {sh(role)} --role-session-name {sh(session)}{doc} "
        "--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text "
        f"> {SESSION_FILE}\n"
        f"read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN < {SESSION_FILE}\n"
        "export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN"
    )


NEW_KEY_FILE = "new-key-arn.txt"


def new_key_fix(
    facts: Facts,
    summary: str,
    *,
    usage: str = "ENCRYPT_DECRYPT",
    spec: str = "SYMMETRIC_DEFAULT",
    description: str,
    terraform: str,
) -> Fix:
    """A customer managed key the caller can use (a key's usage, spec and AWS management cannot
    change): its policy keeps the account's IAM delegation (so it stays manageable) and names the
    caller for the incident's actions. The new key's ARN goes to new-key-arn.txt for the
    application's configuration; data under the old key is re-encrypted with `aws kms re-encrypt`."""
    account = facts.principal_account
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            statement("EnableIAM", arns.account_root(account), ["kms:*"]),
            statement(
                "AllowUse", policy_principal(facts), [*needed_actions(facts), "kms:DescribeKey"]
            ),
        ],
    }
    applier = iam_applier(account, "kms:CreateKey")
    cli = (
        f"aws kms create-key --key-usage {usage} --key-spec {spec} --description {sh(description)} "
        f"--policy {sh(compact(policy))} --query KeyMetadata.Arn --output text"
        f"{region_flag(facts, facts.region)} > {NEW_KEY_FILE}"
    )
    return Fix(
        summary=summary,
        cli=cli,
        terraform=terraform,
        applied_by=applier.arn,
        applied_by_reason=applier.how,
        notes=(
            f"configure the application with the key ARN in {NEW_KEY_FILE}; re-encrypt data "
            "under the old key with: aws kms re-encrypt --ciphertext-blob fileb://ciphertext.bin "
            f'--destination-key-id "$(cat {NEW_KEY_FILE})"',
        ),
    )


# The AWS CLI's own retries (cli-configure-retries.html): adaptive mode backs off on throttling
# and transient errors, up to AWS_MAX_ATTEMPTS attempts.
RETRY_ENV = "AWS_RETRY_MODE=adaptive AWS_MAX_ATTEMPTS=10"


def retry_fix(facts: Facts, summary: str, check: str, terraform: str) -> Fix:
    """Nothing to change: the application's call, retried with backoff once the condition AWS
    reports has cleared; ``check`` is how to see that it has."""
    return caller_fix(
        facts,
        summary,
        f"{RETRY_ENV} {cli_call(facts)}",
        terraform,
        notes=(f"to see whether the condition has cleared: {check}",),
    )
