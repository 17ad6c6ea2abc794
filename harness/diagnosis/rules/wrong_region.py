"""The key lives in another Region than the one called (catalog #50)."""

from __future__ import annotations

from harness.diagnosis.callfixes import caller_fix, cli_call
from harness.diagnosis.context import Context
from harness.diagnosis.model import Finding
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._resolution import resolution

META = RuleMeta(
    code="WRONG_REGION",
    runbook_step="extra",
    severity="error",
    title="Wrong Region",
    reads=("kms:DescribeKey", "cloudtrail:LookupEvents"),
    catalog=("E50",),
    meaning="the key lives in another region than the call",
    phase="resolution",
    node="resolve",
    fixes=("aws kms {operation}",),
    explains=Explains(
        errors=frozenset({"NotFoundException", "InvalidArnException"}), ambiguous=True
    ),
)


def check(ctx: Context) -> Finding | None:
    res = resolution(ctx)
    if res is None or res.code != META.code:
        return None
    f = ctx.facts
    return ctx.finding(
        META,
        f"{ctx.who} called {ctx.action} in {f.region}, but key {ctx.key} lives in {res.key_region}; "
        f"call KMS in {res.key_region}.",
        res.evidence,
        caller_fix(
            f,
            f"Send the request to the key's Region {res.key_region} (or use a multi-Region key with a replica in {f.region}).",
            cli_call(f, key=f.key_arn or f.request_key or f.key_id, region=res.key_region),
            (
                'provider "aws" {\n'
                f'  alias  = "{res.key_region.replace("-", "_")}"\n'
                f'  region = "{res.key_region}"\n'
                "}\n"
                "# use this provider (or client Region) for resources that call the key"
            ),
        ),
    )
