"""Custom key store disconnected: KMS keys in it are Unavailable (fix-keystore.html)."""

from __future__ import annotations

from harness.diagnosis.appliers import Applier, iam_applier
from harness.diagnosis.context import Context
from harness.diagnosis.fixes import region_flag
from harness.diagnosis.model import Evidence, Finding, Fix
from harness.diagnosis.registry import Explains, RuleMeta
from harness.diagnosis.rules._state import state_evidence

META = RuleMeta(
    code="KEY_UNAVAILABLE",
    runbook_step=2,
    severity="error",
    title="Custom key store disconnected",
    reads=("kms:DescribeKey", "kms:DescribeCustomKeyStores"),
    catalog=("D47", "D48", "D49"),
    meaning="custom key store disconnected (state Unavailable)",
    phase="key-state",
    node="state",
    fixes=("aws kms connect-custom-key-store", "aws kms disconnect-custom-key-store"),
    explains=Explains(
        errors=frozenset({"KMSInvalidStateException"}), states=frozenset({"Unavailable"})
    ),
)

_DOWN = ("DISCONNECTED", "FAILED", "DISCONNECTING")


def check(ctx: Context) -> Finding | None:
    evidence = state_evidence(ctx, ("Unavailable",))
    store = ctx.facts.custom_key_store
    md = ctx.facts.key_metadata or {}
    store_id = md.get("CustomKeyStoreId") or (store or {}).get("CustomKeyStoreId")
    if store and store.get("ConnectionState") in _DOWN:
        evidence.append(
            Evidence(
                "kms:DescribeCustomKeyStores",
                f"{store.get('CustomKeyStoreId')} ConnectionState {store.get('ConnectionState')}"
                + (
                    f", ConnectionErrorCode {store['ConnectionErrorCode']}"
                    if store.get("ConnectionErrorCode")
                    else ""
                ),
            )
        )
    elif (
        md.get("CustomKeyStoreId")
        and ctx.signal_code("KMSInvalidStateException")
        and not (ctx.signal and ctx.signal.state)
    ):
        # A connected store can still fail every call (HSM gone, network); the message says which.
        evidence.append(ctx.signal_evidence())
        evidence.append(
            Evidence(
                "kms:DescribeKey", f"the key lives in custom key store {md['CustomKeyStoreId']}"
            )
        )
    if not evidence:
        return None
    state = (store or {}).get("ConnectionState")
    rf = region_flag(ctx.facts)
    sid = store_id or "<custom-key-store-id>"
    cli = f"aws kms connect-custom-key-store --custom-key-store-id {sid}{rf}"
    if state == "FAILED":
        cli = f"aws kms disconnect-custom-key-store --custom-key-store-id {sid}{rf}\n" + cli
    return ctx.finding(
        META,
        f"Key {ctx.key} is in custom key store {sid}, which is not usable"
        f"{f' ({state})' if state else ''}; reconnect it so {ctx.who} can call {ctx.action}.",
        evidence,
        Fix(
            summary=f"Reconnect custom key store {sid}"
            + (" (disconnect it first: it is FAILED)" if state == "FAILED" else "")
            + " and fix the cause named by ConnectionErrorCode.",
            cli=cli,
            # Custom key stores are an account's resource: IAM policies alone allow
            # kms:ConnectCustomKeyStore (the key policy does not govern it).
            applied_by=_store_admin(ctx).arn,
            applied_by_reason=_store_admin(ctx).how,
            terraform=(
                "# Terraform manages the store but not its connection; after fixing the cause run the CLI.\n"
                'data "aws_kms_custom_key_store" "store" {\n'
                f'  custom_key_store_id = "{sid}"\n'
                "}"
            ),
        ),
    )


def _store_admin(ctx: Context) -> Applier:
    f = ctx.facts
    return iam_applier(str(f.key_account or f.principal_account), "kms:ConnectCustomKeyStore")
