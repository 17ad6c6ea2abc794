"""A finding code owns its metadata: the ranking order, the flowchart, the scenario schema's enum
and the agreement with AWS's observed error are generated from the rules' META, and they are
what they were when each lived in its own hand-written table (written out here as of the main
branch before the registry owned them)."""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import botocore.session
import pytest

from harness.diagnosis import diagnose, flow, messages, ranking
from harness.diagnosis.registry import (
    PHASES,
    Explains,
    RegistryError,
    RuleMeta,
    by_code,
    codes,
    load,
    precedence,
    precedence_of,
    rules,
)

from .cases import CASES

ROOT = Path(__file__).parents[2]

# harness/diagnosis/ranking.py ORDER on main before the registry generated it.
ORDER_AS_OF_MAIN = (
    "CREDENTIALS_INVALID",
    "KMS_SERVICE_EVENT",
    "THROTTLED",
    "WRONG_REGION",
    "MULTI_REGION_REPLICA_MISSING",
    "ALIAS_NOT_FOUND",
    "ALIAS_WRONG_TARGET",
    "KEY_NOT_FOUND",
    "GRANT_TOKEN_INVALID",
    "RCP_BLOCKS",
    "SCP_BLOCKS",
    "VPC_ENDPOINT_POLICY_BLOCKS",
    "KEY_POLICY_EXPLICIT_DENY",
    "IAM_EXPLICIT_DENY",
    "PERMISSIONS_BOUNDARY_BLOCKS",
    "SESSION_POLICY_BLOCKS",
    "MULTI_REGION_REPLICA_DIVERGED",
    "AWS_MANAGED_KEY_MISUSE",
    "KEY_POLICY_TOO_LARGE",
    "GRANT_TOKEN_NEEDED",
    "GRANT_CONSTRAINT_UNMET",
    "GRANT_OPERATION_MISSING",
    "KEY_POLICY_PRINCIPAL_MISMATCH",
    "KEY_POLICY_CONDITION_UNMET",
    "CROSS_ACCOUNT_KEY_POLICY_MISSING",
    "KEY_POLICY_NO_ALLOW",
    "IAM_RESOURCE_MISMATCH",
    "CROSS_ACCOUNT_IAM_MISSING",
    "IAM_NO_ALLOW",
    "KEY_PENDING_DELETION",
    "KEY_DISABLED",
    "KEY_PENDING_IMPORT",
    "KEY_UNAVAILABLE",
    "KEY_STATE_TRANSITION",
    "KEY_USAGE_MISMATCH",
    "INCORRECT_KEY",
    "ENCRYPTION_CONTEXT_MISMATCH",
    "CIPHERTEXT_INVALID",
    "GRANT_LIMIT_REACHED",
    "INVESTIGATOR_ACCESS_DENIED",
    "NO_FAULT_FOUND",
)

# harness/diagnosis/flow.py NODES on main: node id -> the codes that fail it.
NODES_AS_OF_MAIN = {
    "credentials": {"CREDENTIALS_INVALID"},
    "service": {"KMS_SERVICE_EVENT", "THROTTLED"},
    "resolve": {
        "KEY_NOT_FOUND",
        "WRONG_REGION",
        "ALIAS_NOT_FOUND",
        "MULTI_REGION_REPLICA_MISSING",
        "GRANT_TOKEN_INVALID",
    },
    "rcp": {"RCP_BLOCKS"},
    "scp": {"SCP_BLOCKS"},
    "vpce": {"VPC_ENDPOINT_POLICY_BLOCKS"},
    "key-trust": {
        "KEY_POLICY_EXPLICIT_DENY",
        "KEY_POLICY_NO_ALLOW",
        "KEY_POLICY_PRINCIPAL_MISMATCH",
        "KEY_POLICY_CONDITION_UNMET",
        "CROSS_ACCOUNT_KEY_POLICY_MISSING",
        "AWS_MANAGED_KEY_MISUSE",
        "GRANT_OPERATION_MISSING",
        "GRANT_CONSTRAINT_UNMET",
        "GRANT_TOKEN_NEEDED",
        "MULTI_REGION_REPLICA_DIVERGED",
    },
    "iam": {
        "IAM_EXPLICIT_DENY",
        "IAM_NO_ALLOW",
        "IAM_RESOURCE_MISMATCH",
        "CROSS_ACCOUNT_IAM_MISSING",
    },
    "boundary": {"PERMISSIONS_BOUNDARY_BLOCKS"},
    "session": {"SESSION_POLICY_BLOCKS"},
    "state": {
        "KEY_DISABLED",
        "KEY_PENDING_DELETION",
        "KEY_PENDING_IMPORT",
        "KEY_UNAVAILABLE",
        "KEY_STATE_TRANSITION",
    },
    "usage": {"KEY_USAGE_MISMATCH"},
    "crypto": {
        "ALIAS_WRONG_TARGET",
        "INCORRECT_KEY",
        "ENCRYPTION_CONTEXT_MISMATCH",
        "CIPHERTEXT_INVALID",
    },
}

# harness/diagnosis/ranking.py's agreement tables on main.
_CREDENTIAL_CODES = {
    "ExpiredTokenException",
    "ExpiredToken",
    "RequestExpired",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "IncompleteSignatureException",
    "AuthFailure",
}
_RETRYABLE = {"KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException"}
STATE_OF_AS_OF_MAIN = {
    "KEY_DISABLED": {"Disabled"},
    "KEY_PENDING_DELETION": {"PendingDeletion"},
    "KEY_PENDING_IMPORT": {"PendingImport"},
    "KEY_UNAVAILABLE": {"Unavailable"},
    "KEY_STATE_TRANSITION": {"Creating", "Updating"},
}
CODES_OF_AS_OF_MAIN = {
    "KEY_NOT_FOUND": {"NotFoundException"},
    "WRONG_REGION": {"NotFoundException", "InvalidArnException"},
    "ALIAS_NOT_FOUND": {"NotFoundException"},
    "MULTI_REGION_REPLICA_MISSING": {"NotFoundException"},
    "KEY_USAGE_MISMATCH": {"InvalidKeyUsageException"},
    "ENCRYPTION_CONTEXT_MISMATCH": {"InvalidCiphertextException"},
    "CIPHERTEXT_INVALID": {"InvalidCiphertextException"},
    "INCORRECT_KEY": {"IncorrectKeyException", "InvalidCiphertextException"},
    "ALIAS_WRONG_TARGET": {"IncorrectKeyException", "InvalidCiphertextException"},
    "GRANT_TOKEN_INVALID": {"InvalidGrantTokenException"},
    "KEY_POLICY_TOO_LARGE": {"LimitExceededException"},
    "GRANT_LIMIT_REACHED": {"LimitExceededException"},
    "THROTTLED": {"ThrottlingException"},
    "CREDENTIALS_INVALID": _CREDENTIAL_CODES,
    "KMS_SERVICE_EVENT": _RETRYABLE | {"ThrottlingException"},
    "KEY_UNAVAILABLE": {"KMSInvalidStateException"},
    "MULTI_REGION_REPLICA_DIVERGED": {"DisabledException", "KMSInvalidStateException"},
}
LAYER_OF_AS_OF_MAIN = {
    **dict.fromkeys(
        (
            "KEY_POLICY_NO_ALLOW",
            "KEY_POLICY_PRINCIPAL_MISMATCH",
            "KEY_POLICY_CONDITION_UNMET",
            "KEY_POLICY_EXPLICIT_DENY",
            "CROSS_ACCOUNT_KEY_POLICY_MISSING",
            "AWS_MANAGED_KEY_MISUSE",
            "GRANT_OPERATION_MISSING",
            "GRANT_CONSTRAINT_UNMET",
            "GRANT_TOKEN_NEEDED",
            "MULTI_REGION_REPLICA_DIVERGED",
            "ALIAS_WRONG_TARGET",
            "KEY_POLICY_TOO_LARGE",
        ),
        "key-policy",
    ),
    "IAM_NO_ALLOW": "identity",
    "IAM_RESOURCE_MISMATCH": "identity",
    "IAM_EXPLICIT_DENY": "identity",
    "CROSS_ACCOUNT_IAM_MISSING": "identity",
    "PERMISSIONS_BOUNDARY_BLOCKS": "permissions-boundary",
    "SESSION_POLICY_BLOCKS": "session",
    "SCP_BLOCKS": "scp",
    "RCP_BLOCKS": "rcp",
    "VPC_ENDPOINT_POLICY_BLOCKS": "vpc-endpoint",
}
AMBIGUOUS_AS_OF_MAIN = {
    "KEY_POLICY_NO_ALLOW",
    "KEY_POLICY_PRINCIPAL_MISMATCH",
    "KEY_POLICY_CONDITION_UNMET",
    "CROSS_ACCOUNT_KEY_POLICY_MISSING",
    "IAM_NO_ALLOW",
    "IAM_RESOURCE_MISMATCH",
    "CROSS_ACCOUNT_IAM_MISSING",
    "WRONG_REGION",
    "KEY_NOT_FOUND",
    "ALIAS_WRONG_TARGET",
    "INCORRECT_KEY",
}


def agrees_as_of_main(code: str, sig: messages.Signal) -> bool:
    """ranking.agrees as it was on main, over the tables above."""
    if sig.ambiguous:
        return code in AMBIGUOUS_AS_OF_MAIN
    if sig.state is not None:
        return sig.state in STATE_OF_AS_OF_MAIN.get(code, set()) or (
            code == "MULTI_REGION_REPLICA_DIVERGED"
        )
    if sig.denied:
        if code == "ALIAS_WRONG_TARGET":
            return True
        layer = LAYER_OF_AS_OF_MAIN.get(code)
        if layer is None:
            return False
        if code.startswith("GRANT_") and sig.layer == "identity":
            return True
        return sig.layer in (None, layer)
    return sig.code in CODES_OF_AS_OF_MAIN.get(code, set())


ARN = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DENIED = (
    "User: arn:aws:sts::111111111111:assumed-role/app/s is not authorized to perform: kms:Decrypt on resource: "
    + ARN
)


def observed_errors() -> list[tuple[str, str]]:
    """AWS errors of every kind the agreement distinguishes (codes, state texts from
    key-state.html, AccessDenied with each layer's clause from IAM's troubleshooting page)."""
    out = [(code, "") for codes_ in CODES_OF_AS_OF_MAIN.values() for code in sorted(codes_)]
    out += [("SomethingElseException", "")]
    for words in (
        "disabled",
        "pending deletion",
        "pending import",
        "unavailable",
        "creating",
        "updating",
    ):
        out += [
            ("KMSInvalidStateException", f"{ARN} is {words}."),
            ("DisabledException", f"{ARN} is {words}."),
        ]
    for clause in (
        "",
        " because no resource-based policy allows the kms:Decrypt action",
        " because no identity-based policy allows the kms:Decrypt action",
        " with an explicit deny in an identity-based policy",
        " because no permissions boundary allows the kms:Decrypt action",
        " because no session policy allows the kms:Decrypt action",
        " with an explicit deny in a service control policy",
        " with an explicit deny in a resource control policy",
        " because no VPC endpoint policy allows the kms:Decrypt action",
    ):
        out.append(("AccessDeniedException", DENIED + clause))
    out.append(
        (
            "AccessDeniedException",
            "The ciphertext refers to a customer master key that does not exist, does not exist "
            "in this region, or you are not allowed to access.",
        )
    )
    return out


def test_the_ranking_order_is_todays() -> None:
    assert precedence() == ORDER_AS_OF_MAIN
    assert ranking.ORDER == ORDER_AS_OF_MAIN
    assert codes() == ORDER_AS_OF_MAIN


def test_the_order_does_not_depend_on_the_order_rules_are_loaded() -> None:
    metas = [r.meta for r in rules()]
    for seed in range(5):
        random.Random(seed).shuffle(metas)
        assert precedence_of(tuple(metas)) == ORDER_AS_OF_MAIN


@pytest.mark.parametrize(("code", "message"), observed_errors())
def test_agreement_with_the_observed_error_is_todays(code: str, message: str) -> None:
    sig = messages.parse(code, message)
    for finding in ORDER_AS_OF_MAIN:
        assert ranking.agrees(finding, sig) == agrees_as_of_main(finding, sig), (finding, sig)


def test_layer_has_one_source() -> None:
    # The drift of issue 14: grant rules said "grant" where the ranking said "key-policy". Now
    # the rule declares the evaluator layer and AWS's wording is derived from it.
    for code, layer in LAYER_OF_AS_OF_MAIN.items():
        assert ranking.explains_denial(code)
        meta = by_code()[code].meta
        if meta.layer is not None:
            assert ranking.message_layer(meta.layer) == layer, code
    assert {c for c in ORDER_AS_OF_MAIN if ranking.explains_denial(c)} == set(LAYER_OF_AS_OF_MAIN)
    assert {c for c in ORDER_AS_OF_MAIN if by_code()[c].meta.layer == "grant"} == {
        "GRANT_OPERATION_MISSING",
        "GRANT_CONSTRAINT_UNMET",
        "GRANT_TOKEN_NEEDED",
    }


def test_the_flowchart_is_todays_and_in_ranking_order() -> None:
    nodes = flow.nodes()
    assert {node_id: set(codes_) for node_id, _, _, codes_ in nodes} == NODES_AS_OF_MAIN
    for _, _, _, codes_ in nodes:
        assert list(codes_) == sorted(codes_, key=ORDER_AS_OF_MAIN.index)
    placed = {c for _, _, _, codes_ in nodes for c in codes_}
    assert set(ORDER_AS_OF_MAIN) - placed == {
        "KEY_POLICY_TOO_LARGE",
        "GRANT_LIMIT_REACHED",
        "INVESTIGATOR_ACCESS_DENIED",
        "NO_FAULT_FOUND",
    }


def test_the_scenario_schema_enum_is_the_registry() -> None:
    from harness.errors import UsageError
    from harness.scenarios.catalog import schema, validate

    assert schema()["$defs"]["finding_code"]["enum"] == list(ORDER_AS_OF_MAIN)
    doc = Path(ROOT / "scenarios" / "key-state" / "key-disabled.yaml")
    import yaml

    data = yaml.safe_load(doc.read_text())
    validate(data, "key-disabled.yaml")
    data["expected"]["finding"] = "KEY_DISABLD"
    with pytest.raises(UsageError, match=r"\$\.expected\.finding"):
        validate(data, "key-disabled.yaml")


# -- the partial order is checked ---------------------------------------------------------------


def _meta(code: str, phase: str = "key-state", **kw: Any) -> RuleMeta:
    return RuleMeta(
        code=code,
        runbook_step="extra",
        severity="error",
        title=code,
        meaning=code.lower(),
        reads=("kms:DescribeKey",),
        catalog=("D41",),
        phase=phase,
        node=None,
        fixes=(),
        **kw,
    )


def test_a_cycle_is_refused() -> None:
    with pytest.raises(RegistryError, match="cycle among A_CODE, B_CODE"):
        precedence_of((_meta("A_CODE", after=("B_CODE",)), _meta("B_CODE", after=("A_CODE",))))


def test_a_cycle_through_before_and_after_is_refused() -> None:
    metas = (
        _meta("A_CODE", before=("B_CODE",)),
        _meta("B_CODE", before=("C_CODE",)),
        _meta("C_CODE", before=("A_CODE",)),
    )
    with pytest.raises(RegistryError, match="cycle"):
        precedence_of(metas)


def test_an_edge_against_the_phases_is_refused() -> None:
    metas = (_meta("LATE", phase="key-state"), _meta("EARLY", phase="admission", after=("LATE",)))
    with pytest.raises(RegistryError, match="runs against the phases"):
        precedence_of(metas)


def test_unknown_codes_and_phases_are_refused() -> None:
    with pytest.raises(RegistryError, match="unknown code NOPE"):
        precedence_of((_meta("A_CODE", after=("NOPE",)),))
    with pytest.raises(RegistryError, match="unknown phase"):
        precedence_of((_meta("A_CODE", phase="whenever"),))


def test_ties_break_by_phase_then_code_and_edges_win() -> None:
    metas = (
        _meta("ZED", phase="admission"),
        _meta("ALPHA", phase="ciphertext"),
        _meta("BRAVO", phase="ciphertext", before=("ALPHA",)),
        _meta("ABLE", phase="ciphertext"),
    )
    assert precedence_of(metas) == ("ZED", "ABLE", "BRAVO", "ALPHA")


def _module(name: str, meta: RuleMeta | None) -> ModuleType:
    module = ModuleType(f"somewhere.{name}")
    if meta is not None:
        module.META = meta  # type: ignore[attr-defined]
    module.check = lambda ctx: None  # type: ignore[attr-defined]
    return module


def test_the_loader_refuses_drift_between_file_and_code() -> None:
    with pytest.raises(RegistryError, match="declares code A_CODE"):
        load([_module("b_code", _meta("A_CODE"))])
    with pytest.raises(RegistryError, match="lacks META"):
        load([_module("a_code", None)])
    with pytest.raises(RegistryError, match="unknown evaluator layer"):
        load([_module("a_code", _meta("A_CODE", layer="keypolicy"))])
    with pytest.raises(RegistryError, match="declared twice"):
        load([_module("a_code", _meta("A_CODE")), _module("a_code", _meta("A_CODE"))])


def test_every_phase_is_used() -> None:
    assert {r.meta.phase for r in rules()} == set(PHASES)


# -- fix templates ------------------------------------------------------------------------------

_AWS = re.compile(r"(?:^|[;&|(]\s*)aws ([a-z0-9-]+) ([a-z0-9-]+)", re.M)


def _cli_name(operation: str) -> str:
    from botocore import xform_name

    return xform_name(operation, "-")


@pytest.fixture(scope="module")
def service_models() -> dict[str, set[str]]:
    session = botocore.session.get_session()
    services = {t.split()[1] for r in rules() for t in r.meta.fixes}
    return {
        s: {_cli_name(op) for op in session.get_service_model(s).operation_names} for s in services
    }


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.meta.code)
def test_fix_templates_are_aws_cli_commands(rule, service_models) -> None:  # type: ignore[no-untyped-def]
    assert rule.meta.fixes, "every code's fix names the commands it runs"
    for template in rule.meta.fixes:
        aws, service, command = template.split()
        assert aws == "aws"
        assert command == "{operation}" or command in service_models[service], template


def test_the_template_check_would_catch_a_made_up_command(service_models) -> None:  # type: ignore[no-untyped-def]
    assert "enable-key" in service_models["kms"]
    assert "enable-the-key" not in service_models["kms"]


CASE_BUILDS = [
    (code, kind, case[0]) for code, kinds in sorted(CASES.items()) for kind, case in kinds.items()
]


RECORDED = sorted((Path(__file__).parent / "catalog").glob("*.json"))


def _assert_fix_commands_declared(bundle: dict[str, Any]) -> None:
    request = bundle["request"]
    actions = request.get("actions") or [request.get("action") or "kms:Decrypt"]
    own = {"aws kms " + _cli_name(a.split(":", 1)[1]) for a in actions}
    for finding in diagnose(bundle).findings:
        declared = set(by_code()[finding.code].meta.fixes)
        if "aws kms {operation}" in declared:
            declared |= own
        for service, command in _AWS.findall(finding.fix.cli):
            assert f"aws {service} {command}" in declared, (finding.code, finding.fix.cli)


@pytest.mark.parametrize(
    ("code", "kind", "build"), CASE_BUILDS, ids=[f"{c}-{k}" for c, k, _ in CASE_BUILDS]
)
def test_fixes_run_only_their_declared_commands(code: str, kind: str, build) -> None:  # type: ignore[no-untyped-def]
    _assert_fix_commands_declared(build())


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
def test_fixes_of_the_lab_recorded_bundles_run_only_declared_commands(path: Path) -> None:
    import json

    _assert_fix_commands_declared(json.loads(path.read_text())["bundle"])


# -- a code owns its cases, its scenario and its feature row --------------------------------------


def _feature_rows() -> set[str]:
    """Scenario ids in the `id` column of the features' Examples tables."""
    rows: set[str] = set()
    for path in (ROOT / "features").glob("*.feature"):
        header: list[str] | None = None
        for line in path.read_text().splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not line.strip().startswith("|"):
                header = None
            elif header is None:
                header = cells
            elif "id" in header:
                rows.add(cells[header.index("id")])
    return rows


def test_every_code_has_cases_a_scenario_and_a_feature_row() -> None:
    from harness.scenarios.catalog import load_catalog

    scenarios: dict[str, list[str]] = {}
    for s in load_catalog():
        scenarios.setdefault(s.expected_finding, []).append(s.id)
    rows = _feature_rows()
    problems = []
    for code in codes():
        if set(CASES.get(code, {})) != {"positive", "negative", "near_miss"}:
            problems.append(
                f"{code}: no positive/negative/near_miss cases in tests/diagnosis/cases.py"
            )
        if not scenarios.get(code):
            problems.append(f"{code}: no catalog scenario under scenarios/ expects it")
        elif not set(scenarios[code]) & rows:
            problems.append(f"{code}: none of {scenarios[code]} is a row of a features/*.feature")
    assert not problems, "\n".join(problems)


def test_feature_rows_are_read_from_the_examples_tables() -> None:
    rows = _feature_rows()
    assert "key-disabled" in rows and "id" not in rows


def test_explains_is_immutable_metadata() -> None:
    meta = by_code()["KEY_DISABLED"].meta
    with pytest.raises(dataclasses.FrozenInstanceError):
        meta.explains.states = frozenset()  # type: ignore[misc]
    assert isinstance(meta.explains, Explains)


def test_each_code_explains_the_error_its_scenarios_document() -> None:
    # The scenarios' expected errors are AWS's documented codes and messages (each scenario cites
    # its sources); what a code declares it explains must agree with them. Codes of the
    # investigation phase explain the evidence, not the failing call, so they are left out.
    from harness.scenarios.catalog import load_catalog

    checked, problems = 0, []
    for s in load_catalog():
        error = s.raw["expected"].get("error")
        meta = by_code()[s.expected_finding].meta
        if error is None or meta.phase == "investigation":
            continue
        checked += 1
        if not ranking.agrees(s.expected_finding, messages.parse(error["code"], error["message"])):
            problems.append(f"{s.id}: {s.expected_finding} does not explain {error['code']}")
    assert checked >= 50
    assert not problems, "\n".join(problems)
