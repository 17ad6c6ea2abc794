"""kmslab's pytest plugin (entry point `pytest11: kmslab`): the lab and the catalog in a
team's own test suite.

Fixtures:
- `kmslab_lab` (session): a lab endpoint on 127.0.0.1, embedded moto by default,
  `--kmslab-upstream localstack` for LocalStack, `--kmslab-endpoint-url URL` for a lab
  that is already running (`kmslab lab up --detach`).
- `kmslab_scenario`: the scenario named by `@pytest.mark.kmslab_scenario("key-disabled")`
  (a catalog id or a scenario file) or by indirect parametrization, provisioned on the
  lab; yields its resolved names, the principal's lab-issued credentials, and helpers
  to make the failing call, diagnose it and apply the fix.
- `kmslab_diagnose`: diagnose an evidence bundle (a dict or a file) offline.

Nothing here runs unless a test asks for one of these fixtures.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness.aws.clients import Target
    from harness.scenarios.call import Outcome, ScenarioCaller
    from harness.scenarios.model import Scenario
    from harness.scenarios.native import NativeProvisioner
    from harness.scenarios.refs import ResolvedRefs
    from harness.scenarios.runner import Runner

MARKER = "kmslab_scenario"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kmslab", "kmslab lab and scenarios")
    group.addoption(
        "--kmslab-upstream",
        default=None,
        help="what the lab fronts: moto (embedded, default), localstack, or an upstream URL",
    )
    group.addoption(
        "--kmslab-endpoint-url",
        default=None,
        help="use a lab that is already running at this URL instead of starting one",
    )
    parser.addini("kmslab_upstream", "default for --kmslab-upstream", default="moto")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(ref): provision this catalog scenario id or scenario file for the "
        "kmslab_scenario fixture",
    )


@dataclass
class LabEndpoint:
    """A running lab endpoint."""

    endpoint: str
    upstream: str

    def operator(self, account: str = "111111111111", region: str = "us-east-1") -> Target:
        """Operator credentials of a lab account (the account's administrator)."""
        from harness.scenarios.native import lab_targets

        return lab_targets(self.endpoint)(account, region)

    def reset(self) -> None:
        from harness.lab import LabClient

        LabClient(self.endpoint).reset()


@pytest.fixture(scope="session")
def kmslab_lab(request: pytest.FixtureRequest) -> Iterator[LabEndpoint]:
    """The lab for the session: started here (and stopped at the end) unless given by URL."""
    endpoint = request.config.getoption("--kmslab-endpoint-url")
    upstream = request.config.getoption("--kmslab-upstream") or request.config.getini(
        "kmslab_upstream"
    )
    from harness.errors import KmslabError

    if endpoint:
        from harness.lab import LabClient

        try:
            health = LabClient(endpoint, timeout=5.0).health()
        except KmslabError as exc:
            pytest.fail(f"kmslab: no lab at --kmslab-endpoint-url {endpoint}: {exc}", pytrace=False)
        yield LabEndpoint(endpoint, str(health.get("upstream", upstream)))
        return
    from harness.lab import LabServer

    server = LabServer(upstream=str(upstream), port=0)
    try:
        server.start()
    except KmslabError as exc:
        pytest.fail(f"kmslab: the lab ({upstream}) did not start: {exc}", pytrace=False)
    try:
        yield LabEndpoint(server.endpoint, str(upstream))
    finally:
        server.stop()


@dataclass
class ProvisionedScenario:
    """A scenario built on the lab: its names, its caller's credentials, and what to do next."""

    scenario: Scenario
    lab: LabEndpoint
    resolved: ResolvedRefs
    caller: ScenarioCaller
    runner: Runner = field(repr=False)
    provisioner: NativeProvisioner = field(repr=False)
    # The evidence bundle of the last diagnose() (contract section 3).
    bundle: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return self.scenario.id

    @property
    def region(self) -> str:
        return str(self.scenario.call["region"])

    @property
    def names(self) -> dict[str, Any]:
        """What the lab named the scenario's resources: `names["key"]["data"]["arn"]`, ...
        (the `${kind.name.attr}` references of the scenario file)."""
        r = self.resolved
        return {
            "account": dict(r.account),
            "key": {k: dict(v) for k, v in r.key.items()},
            "principal": {k: dict(v) for k, v in r.principal.items()},
            "alias": {k: dict(v) for k, v in r.alias.items()},
            "vpce": {k: dict(v) for k, v in r.vpce.items()},
            "grant": {k: dict(v) for k, v in r.grant.items()},
            "caller": dict(r.caller),
        }

    @property
    def credentials(self) -> dict[str, str]:
        """The caller's lab-issued credentials, as boto3.Session keyword arguments."""
        t = self.caller.target
        out = {
            "aws_access_key_id": t.access_key_id or "",
            "aws_secret_access_key": t.secret_access_key or "",
        }
        if t.session_token:
            out["aws_session_token"] = t.session_token
        return out

    def env(self) -> dict[str, str]:
        """Environment variables that make the AWS CLI (or an SDK) act as the caller on the lab."""
        creds = self.credentials
        out = {
            "AWS_ACCESS_KEY_ID": creds["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"],
            "AWS_ENDPOINT_URL": self.lab.endpoint,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }
        if "aws_session_token" in creds:
            out["AWS_SESSION_TOKEN"] = creds["aws_session_token"]
        return out

    def client(self, service: str = "kms") -> Any:
        """A boto3 client acting as the caller (with the call's VPC endpoint / via-service)."""
        return self.caller.target.client(service, self.region)

    def call(self) -> Outcome:
        """Make the scenario's call as its principal; `.ok`, `.code`, `.message`."""
        from harness.scenarios.call import make_call

        return make_call(self.caller, self.scenario.call, self.resolved)

    def diagnose(self) -> dict[str, Any]:
        """Make the call, collect the evidence as the operators and diagnose it
        (contract section 4: `primary`, `decision`, `findings`, ...)."""
        attempt = self.runner.attempt(self.provisioner, self.scenario, self.resolved)
        self.bundle = attempt.bundle
        diagnosis: dict[str, Any] = attempt.diagnosis
        return diagnosis

    def fix(self) -> None:
        """Apply the scenario's fix; the call is then expected to succeed."""
        from harness.scenarios.call import issue_credentials

        fixed = self.runner.apply_fix(self.scenario, self.provisioner, self.resolved)
        self.scenario = fixed
        self.caller = issue_credentials(self.provisioner, fixed.call, fixed.setup, self.resolved)


def provision(lab: LabEndpoint, ref: str) -> ProvisionedScenario:
    """Reset the lab and build scenario `ref` (a catalog id or a scenario file) on it."""
    from harness.scenarios.call import issue_credentials
    from harness.scenarios.catalog import find
    from harness.scenarios.runner import Runner

    scenario = find(str(ref))
    runner = Runner.for_lab(lab.endpoint)
    provisioner, resolved = runner.provision(scenario)
    caller = issue_credentials(provisioner, scenario.call, scenario.setup, resolved)
    return ProvisionedScenario(scenario, lab, resolved, caller, runner, provisioner)


@pytest.fixture
def kmslab_scenario(request: pytest.FixtureRequest, kmslab_lab: LabEndpoint) -> ProvisionedScenario:
    """The scenario of the test's `kmslab_scenario` marker (or indirect parameter), built."""
    ref = getattr(request, "param", None)
    if ref is None:
        marker = request.node.get_closest_marker(MARKER)
        if marker is None or not marker.args:
            pytest.fail(
                "kmslab_scenario needs @pytest.mark.kmslab_scenario('ID or FILE') "
                "or indirect parametrization",
                pytrace=False,
            )
        ref = marker.args[0]
    if isinstance(ref, os.PathLike):
        ref = os.fspath(ref)
    elif isinstance(ref, str) and ref.endswith((".yaml", ".yml", ".json")):
        # A relative scenario file: next to the test file, else under the rootdir.
        path = Path(ref)
        if not path.is_absolute():
            near = Path(str(request.node.path)).parent / path
            path = near if near.is_file() else Path(str(request.config.rootpath)) / path
        ref = str(path)
    from harness.errors import KmslabError

    try:
        return provision(kmslab_lab, str(ref))
    except KmslabError as exc:  # a bad scenario is the test's input, not a crash of the plugin
        pytest.fail(f"kmslab: scenario {ref}: {exc}", pytrace=False)


@pytest.fixture
def kmslab_diagnose() -> Callable[[dict[str, Any] | str | Path], dict[str, Any]]:
    """`kmslab_diagnose(bundle)`: the diagnosis (contract section 4) of a bundle dict or file."""
    from harness.diagnosis import diagnose

    def run(bundle: dict[str, Any] | str | Path) -> dict[str, Any]:
        doc: dict[str, Any] = (
            bundle if isinstance(bundle, dict) else json.loads(Path(bundle).read_text())
        )
        result: dict[str, Any] = diagnose(doc).to_dict()
        return result

    return run
