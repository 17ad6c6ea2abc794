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
    finished = []
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
