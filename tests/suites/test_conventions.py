"""One set of conventions across commands: `--endpoint-url` and AWS_ENDPOINT_URL everywhere
(`--endpoint` kept as a hidden alias), `run`/`reproduce` use the lab `lab up --detach` started for
this checkout and say so, and Ctrl-C during `run --all` prints the rows that finished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cli import main


def keys_in(endpoint: str) -> list[str]:
    from harness.scenarios.native import lab_targets

    kms = lab_targets(endpoint)("111111111111", "us-east-1").client("kms")
    return [k["KeyId"] for k in kms.list_keys()["Keys"]]


def test_reproduce_uses_the_running_lab_of_this_checkout_and_says_so(
    lab_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KMSLAB_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    pid = {"pid": os.getpid(), "endpoint": lab_endpoint, "upstream": "moto"}
    (tmp_path / "lab.pid").write_text(json.dumps(pid))
    assert main(["reproduce", "key-disabled", "--format", "json"]) == 0
    out = capsys.readouterr()
    assert f"using the lab `kmslab lab up` started: {lab_endpoint}" in out.err
    assert json.loads(out.out)["code"] == "DisabledException"
    # The scenario was built in that lab (reproduce leaves it provisioned).
    assert keys_in(lab_endpoint)


def test_a_different_upstream_asked_for_is_not_the_running_lab(
    lab_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.cli.run import running_lab

    monkeypatch.setenv("KMSLAB_STATE_DIR", str(tmp_path))
    pid = {"pid": os.getpid(), "endpoint": lab_endpoint, "upstream": "moto"}
    (tmp_path / "lab.pid").write_text(json.dumps(pid))
    assert running_lab(None) == lab_endpoint
    assert running_lab("moto") == lab_endpoint
    assert running_lab("localstack") is None
    (tmp_path / "lab.pid").write_text(json.dumps({**pid, "endpoint": "http://127.0.0.1:9"}))
    assert running_lab(None) is None  # not answering: not used


def test_run_honours_aws_endpoint_url(
    lab_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KMSLAB_STATE_DIR", str(tmp_path))  # no detached lab
    monkeypatch.setenv("AWS_ENDPOINT_URL", lab_endpoint)
    assert main(["run", "key-disabled", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["ok"] is True
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert main(["run", "key-disabled"]) == 3  # the endpoint it was told to use is down


def test_the_old_endpoint_flag_still_works_but_help_shows_endpoint_url(
    lab_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lab", "status", "--endpoint", lab_endpoint, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["upstream"]
    assert main(["lab", "status", "--endpoint-url", lab_endpoint]) == 0
    capsys.readouterr()
    assert main(["lab", "status", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "--endpoint-url" in help_text and "--endpoint " not in help_text


def test_ctrl_c_during_run_all_prints_the_rows_that_finished(lab_endpoint: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AWS_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", "--all", "--endpoint-url", lab_endpoint],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    finished: list[str] = []
    deadline = time.monotonic() + 300
    while len(finished) < 2 and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if line.startswith("["):
            finished.append(line.split()[1])  # "[1/65] id ok 0.8s"
    assert len(finished) == 2, "run printed no progress"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    from harness.scenarios.catalog import load_catalog

    assert f"of {len(load_catalog())} scenario(s)" in err and "interrupted after" in err
    assert "Traceback" not in err
    for sid in finished:
        assert sid in out  # the rows that finished are in the table
    assert "scenarios ok" in out


def test_shared_flags_have_one_default_across_commands() -> None:
    import click

    from harness.cli import cli

    seen: dict[str, dict[str, object]] = {}

    def walk(cmd: click.Command, path: str) -> None:
        for param in cmd.params:
            if isinstance(param, click.Option):
                for flag in ("--action", "--region", "--profile", "--upstream"):
                    if flag in param.opts:
                        seen.setdefault(flag, {})[path] = param.default
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None
                walk(sub, f"{path} {name}".strip())

    walk(cli, "")
    assert len(seen["--action"]) >= 2 and len(seen["--upstream"]) >= 3
    for flag, defaults in seen.items():
        assert len({repr(d) for d in defaults.values()}) == 1, (flag, defaults)
    assert set(seen["--action"].values()) == {("kms:Decrypt",)}


def test_diagnose_without_action_decides_kms_decrypt_as_collect_does(
    lab_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from harness.pytest_plugin import LabEndpoint, provision

    # The investigator reads as the lab account's operator (contract section 5).
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "111111111111")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "lab-operator-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    built = provision(LabEndpoint(lab_endpoint, "moto"), "key-disabled")
    key = built.names["key"]["data"]["arn"]
    argv = ["--key", key, "--principal", built.caller.arn, "--endpoint-url", lab_endpoint]
    assert main(["diagnose", *argv, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["request"]["action"] == "kms:Decrypt"
    # key-state.html: a disabled key cannot be used for Decrypt.
    assert report["primary"] == "KEY_DISABLED"


@pytest.mark.parametrize(
    "path",
    [
        ["run"],
        ["reproduce"],
        ["lab", "status"],
        ["lab", "reset"],
        ["lab", "controls", "show"],
        ["lab", "controls", "set"],
        ["workshop", "reset"],
    ],
)
def test_endpoint_url_defaults_to_aws_endpoint_url(path: list[str]) -> None:
    import click

    from harness.cli import cli

    cmd: click.Command | None = cli
    for name in path:
        assert isinstance(cmd, click.Group)
        cmd = cmd.get_command(click.Context(cmd), name)
    assert cmd is not None
    (option,) = [p for p in cmd.params if "--endpoint-url" in getattr(p, "opts", [])]
    assert isinstance(option, click.Option) and option.envvar == "AWS_ENDPOINT_URL"


# --region and --profile: one validation (harness.cli.options) in every command -----------------

PRINCIPAL = "arn:aws:iam::111122223333:role/app"
LIVE = ["--key", "alias/app", "--principal", PRINCIPAL]
UNREACHABLE = ["--endpoint-url", "http://127.0.0.1:9"]


@pytest.fixture
def aws_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shared config files holding one profile, `known`; no AWS variables set."""
    for var in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    config = tmp_path / "config"
    config.write_text("[profile known]\nregion = eu-west-1\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[known]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = x\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("KMSLAB_STATE_DIR", str(tmp_path / "state"))  # no detached lab


def one_line_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.usefixtures("aws_config")
@pytest.mark.parametrize("command", [["collect", "--out", "b.json"], ["diagnose"]])
@pytest.mark.parametrize("region", ["us-moon-1", "eu_west_1", ""])
def test_a_region_botocore_does_not_know_is_bad_input(
    command: list[str], region: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = one_line_usage_error([*command, *LIVE, "--region", region, *UNREACHABLE], capsys)
    assert f"--region {region!r} is not an AWS Region" in err
    if region == "eu_west_1":
        assert "did you mean eu-west-1?" in err


@pytest.mark.usefixtures("aws_config")
@pytest.mark.parametrize("command", [["collect", "--out", "b.json"], ["diagnose"]])
@pytest.mark.parametrize("flag", ["--profile", "--key-profile"])
def test_a_profile_that_does_not_exist_is_bad_input(
    command: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = one_line_usage_error([*command, *LIVE, flag, "nope", *UNREACHABLE], capsys)
    assert f"{flag}: profile not found: nope" in err


@pytest.mark.usefixtures("aws_config")
def test_the_variables_are_checked_as_the_flags_are(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["diagnose", *LIVE, *UNREACHABLE]
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-moon-1")
    assert "AWS_DEFAULT_REGION 'us-moon-1' is not an AWS Region" in one_line_usage_error(
        argv, capsys
    )
    monkeypatch.setenv("AWS_REGION", "eu_west_1")  # AWS_REGION comes first, as in the AWS CLI
    assert "AWS_REGION 'eu_west_1'" in one_line_usage_error(argv, capsys)
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_PROFILE", "nope")
    assert "AWS_PROFILE: profile not found: nope" in one_line_usage_error(argv, capsys)
    # A flag overrides its variable: what is checked is what is used. Known names pass the
    # check and the command goes on to its endpoint (unreachable: exit 3).
    monkeypatch.setenv("AWS_REGION", "us-moon-1")
    assert main([*argv, "--profile", "known", "--region", "eu-west-1"]) == 3
    assert "endpoint unreachable" in capsys.readouterr().err


@pytest.mark.usefixtures("aws_config")
@pytest.mark.parametrize(
    "command",
    [
        ["run", "key-disabled", *UNREACHABLE],
        ["reproduce", "key-disabled", *UNREACHABLE],
        ["lab", "up", "--port", "0"],
    ],
)
def test_the_lab_commands_refuse_a_profile_that_does_not_exist_before_any_lab_starts(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Their calls carry lab-issued credentials, but botocore reads AWS_PROFILE all the same.
    monkeypatch.setenv("AWS_PROFILE", "nope")
    err = one_line_usage_error(command, capsys)
    assert "AWS_PROFILE: profile not found: nope" in err


def test_every_region_and_profile_flag_uses_the_shared_validation() -> None:
    import click

    from harness.cli import cli
    from harness.cli.options import _profile_callback, _region_callback

    expected = {"--region": _region_callback, "--profile": _profile_callback}
    expected["--key-profile"] = _profile_callback
    found: list[str] = []

    def walk(cmd: click.Command, path: str) -> None:
        for param in cmd.params:
            for flag in set(expected) & set(param.opts):
                assert param.callback is expected[flag], (path, flag)
                found.append(f"{path} {flag}")
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None
                walk(sub, f"{path} {name}".strip())

    walk(cli, "")
    assert {"collect --region", "diagnose --region", "diagnose --profile"} <= set(found)
