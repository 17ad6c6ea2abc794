"""Adding a finding code is one module: a throwaway code, installed the way a user's package
would add one (a distribution with a `kmslab.finding_codes` entry point), is picked up by the
registry, the ranking, the flowchart, the agreement with AWS's error and the scenario schema with
no other edit."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.diagnosis import diagnose, flow, ranking, registry
from harness.diagnosis.messages import parse

from .builder import KEY_ARN, healthy

CODE = "KEY_PENDING_REPLICA_DELETION_DEMO"

# key-state.html: a multi-Region key "PendingReplicaDeletion" cannot be used for cryptographic
# operations; KMS answers KMSInvalidStateException.
MODULE = textwrap.dedent(
    f'''
    """Throwaway code of the test fixture: a replica key pending deletion."""

    from harness.diagnosis.context import Context
    from harness.diagnosis.model import Evidence, Finding, Fix
    from harness.diagnosis.registry import Explains, RuleMeta

    META = RuleMeta(
        code="{CODE}",
        runbook_step=2,
        severity="error",
        title="Replica key pending deletion",
        meaning="a multi-Region replica key is pending deletion",
        reads=("kms:DescribeKey",),
        catalog=("D42",),
        phase="key-state",
        after=("KEY_DISABLED",),
        before=("KEY_PENDING_IMPORT",),
        node="state",
        fixes=("aws kms cancel-key-deletion",),
        explains=Explains(
            errors=frozenset({{"KMSInvalidStateException"}}),
            states=frozenset({{"PendingReplicaDeletion"}}),
        ),
    )


    def check(ctx: Context) -> Finding | None:
        md = ctx.facts.key_metadata or {{}}
        if md.get("KeyState") != "PendingReplicaDeletion":
            return None
        return ctx.finding(
            META,
            f"Replica {{ctx.key}} is pending deletion; cancel the deletion.",
            [Evidence("kms:DescribeKey", "KeyState is PendingReplicaDeletion")],
            Fix(
                summary="Cancel the replica's deletion.",
                cli=f"aws kms cancel-key-deletion --key-id {{ctx.key}}",
                terraform="",
            ),
        )
    '''
)


@pytest.fixture
def throwaway_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A distribution on sys.path whose entry point adds CODE; removed again afterwards."""
    package = tmp_path / "kmslab_demo_codes"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / f"{CODE.lower()}.py").write_text(MODULE)
    dist = tmp_path / "kmslab_demo_codes-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kmslab-demo-codes\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        f"[{registry.ENTRY_POINT_GROUP}]\n{CODE.lower()} = kmslab_demo_codes.{CODE.lower()}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    try:
        registry.reload()
        yield CODE
    finally:
        monkeypatch.undo()
        for name in [m for m in sys.modules if m.startswith("kmslab_demo_codes")]:
            del sys.modules[name]
        importlib.invalidate_caches()
        registry.reload()


def _replica_pending_deletion() -> dict[str, object]:
    b = healthy()
    b.calls = [c for c in b.calls if c["operation"] != "DescribeKey"]
    b.describe_key(KeyState="PendingReplicaDeletion", Enabled=False, MultiRegion=True)
    return b.observed("KMSInvalidStateException", f"{KEY_ARN} is pending replica deletion.").build()


def test_the_registry_ranking_flowchart_and_schema_pick_up_a_new_code(throwaway_code: str) -> None:
    from harness.scenarios.catalog import schema

    assert throwaway_code in registry.by_code()
    order = ranking.ORDER
    assert order.index("KEY_DISABLED") < order.index(CODE) < order.index("KEY_PENDING_IMPORT")
    state = next(codes for node_id, _, _, codes in flow.nodes() if node_id == "state")
    assert CODE in state
    assert CODE in schema()["$defs"]["finding_code"]["enum"]
    assert CODE in registry.finding_table()

    report = diagnose(_replica_pending_deletion())
    assert report.primary == CODE
    assert report.agreement is not None and report.agreement.agrees
    step = next(s for s in report.path if s.id == "state")
    assert (step.status, step.blocking) == ("fail", True)
    assert ranking.agrees(CODE, parse("KMSInvalidStateException", "")) is True


def test_without_the_code_nothing_knows_it() -> None:
    from harness.scenarios.catalog import schema

    assert CODE not in registry.by_code()
    assert CODE not in ranking.ORDER
    assert CODE not in schema()["$defs"]["finding_code"]["enum"]
    assert diagnose(_replica_pending_deletion()).primary != CODE


def test_a_code_that_contradicts_the_order_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # after KEY_DISABLED and before KEY_PENDING_DELETION: KEY_DISABLED itself comes after
    # KEY_PENDING_DELETION, so the declared order has a cycle.
    package = tmp_path / "kmslab_bad_codes"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / f"{CODE.lower()}.py").write_text(
        MODULE.replace('before=("KEY_PENDING_IMPORT",)', 'before=("KEY_PENDING_DELETION",)')
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(f"kmslab_bad_codes.{CODE.lower()}")
    try:
        with pytest.raises(registry.RegistryError, match="cycle"):
            registry.load([*registry._builtin_modules(), module])
    finally:
        del sys.modules[f"kmslab_bad_codes.{CODE.lower()}"]
        del sys.modules["kmslab_bad_codes"]
