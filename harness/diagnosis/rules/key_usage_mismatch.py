"""Key usage or key spec does not support the operation (catalog #55, #57)."""

from __future__ import annotations

from harness.aws.operations import SYMMETRIC_ONLY_OPERATIONS, USAGE_OF_ACTION
from harness.diagnosis.callfixes import new_key_fix
from harness.diagnosis.context import Context
from harness.diagnosis.model import Evidence, Finding
from harness.diagnosis.registry import Explains, RuleMeta

META = RuleMeta(
    code="KEY_USAGE_MISMATCH",
    runbook_step="extra",
    severity="error",
    title="Key usage or spec does not fit the operation",
    reads=("kms:DescribeKey",),
    catalog=("E55", "E57"),
    meaning="key usage or spec does not support the operation",
    phase="key-usage",
    node="usage",
    fixes=("aws kms create-key",),
    explains=Explains(errors=frozenset({"InvalidKeyUsageException"})),
)

# Data keys come only from symmetric encryption keys (API_GenerateDataKey.html).
_SYMMETRIC_ONLY = frozenset(op.lower() for op in SYMMETRIC_ONLY_OPERATIONS)

# A key spec to suggest for a usage in the fix.
_SPEC_FOR = {
    "SIGN_VERIFY": "ECC_NIST_P256",
    "GENERATE_VERIFY_MAC": "HMAC_256",
    "KEY_AGREEMENT": "ECC_NIST_P256",
    "ENCAPSULATE_DECAPSULATE": "ML_KEM_768",
}


def problem(action: str, usage: str | None, spec: str | None) -> str | None:
    op = action.split(":", 1)[-1].lower()
    need = USAGE_OF_ACTION.get(op)
    if need and usage and usage != need:
        return f"KeyUsage is {usage}; {action} needs {need}"
    if op in _SYMMETRIC_ONLY and spec and spec != "SYMMETRIC_DEFAULT":
        return f"KeySpec is {spec}; {action} needs a SYMMETRIC_DEFAULT key"
    return None


def check(ctx: Context) -> Finding | None:
    f = ctx.facts
    md = f.key_metadata or {}
    spec = md.get("KeySpec") or md.get("CustomerMasterKeySpec")
    why = problem(f.action, md.get("KeyUsage"), spec)
    evidence = []
    if why:
        evidence.append(Evidence("kms:DescribeKey", f"{why} ({md.get('Arn') or ctx.key})"))
    if ctx.signal_code("InvalidKeyUsageException"):
        evidence.append(ctx.signal_evidence())
    if (
        f.encryption_context
        and spec
        and spec != "SYMMETRIC_DEFAULT"
        and str(md.get("KeyUsage")) == "ENCRYPT_DECRYPT"
    ):
        evidence.append(
            Evidence("kms:DescribeKey", f"KeySpec {spec} does not accept an encryption context")
        )
    if not evidence:
        return None
    usage = USAGE_OF_ACTION.get(f.action.split(":")[-1].lower(), "ENCRYPT_DECRYPT")
    new_spec = _SPEC_FOR.get(usage, "SYMMETRIC_DEFAULT")
    return ctx.finding(
        META,
        f"Key {ctx.key} ({md.get('KeyUsage', '?')}, {spec or '?'}) cannot serve {ctx.action} for {ctx.who}; use a key whose usage and spec support it.",
        evidence,
        new_key_fix(
            f,
            f"Create a key with the usage {usage} and a spec that supports {f.action} (key usage cannot be changed), and use it.",
            usage=usage,
            spec=new_spec,
            description=f"replaces {md.get('Arn') or ctx.key} for {f.action}",
            terraform=(
                'resource "aws_kms_key" "data" {\n'
                f'  key_usage                = "{usage}"\n'
                f'  customer_master_key_spec = "{new_spec}"\n'
                "}"
            ),
        ),
    )
