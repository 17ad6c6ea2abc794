"""`kmslab lab up --detach / status / down / controls`: exit codes from contract section 1,
no process left behind, one clear line for an unreachable upstream."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kmslab(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KMSLAB_STATE_DIR": str(state)}
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


@pytest.mark.slow
def test_detached_lab_lifecycle_leaves_no_process(tmp_path: Path) -> None:
    port = free_port()
    up = kmslab(tmp_path, "lab", "up", "--port", str(port), "--detach")
    assert up.returncode == 0, up.stderr
    assert f"http://127.0.0.1:{port}" in up.stdout
    pid = json.loads((tmp_path / "lab.pid").read_text())["pid"]
    try:
        status = kmslab(tmp_path, "lab", "status", "--format", "json")
        assert status.returncode == 0
        health = json.loads(status.stdout)
        assert health["endpoint"] == f"http://127.0.0.1:{port}" and health["pid"] == pid
        controls = tmp_path / "controls.json"
        controls.write_text(json.dumps({"grant_propagation_seconds": 12}))
        assert kmslab(tmp_path, "lab", "controls", "set", "--file", str(controls)).returncode == 0
        shown = kmslab(tmp_path, "lab", "controls", "show")
        assert json.loads(shown.stdout)["grant_propagation_seconds"] == 12
        controls.write_text(json.dumps({"grant_delay": 1}))
        bad = kmslab(tmp_path, "lab", "controls", "set", "--file", str(controls))
        assert (
            bad.returncode == 2 and "unknown field" in bad.stderr and "Traceback" not in bad.stderr
        )
    finally:
        down = kmslab(tmp_path, "lab", "down")
    assert down.returncode == 0
    assert not pid_alive(pid)
    assert not (tmp_path / "lab.pid").exists()
    after = kmslab(tmp_path, "lab", "status")
    assert after.returncode == 3 and "no lab is running" in after.stderr


def test_unreachable_upstream_exits_3_with_one_line(tmp_path: Path) -> None:
    dead = free_port()
    result = kmslab(
        tmp_path,
        "lab",
        "up",
        "--upstream",
        f"http://127.0.0.1:{dead}",
        "--port",
        str(free_port()),
        "--detach",
    )
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"upstream http://127.0.0.1:{dead} is unreachable" in lines[0]
    assert not (tmp_path / "lab.pid").exists()


def test_controls_file_errors_are_usage_errors(tmp_path: Path) -> None:
    result = kmslab(
        tmp_path,
        "lab",
        "controls",
        "set",
        "--file",
        str(tmp_path / "missing.json"),
        "--endpoint",
        "http://127.0.0.1:9",
    )
    assert result.returncode == 2 and "cannot read" in result.stderr


@pytest.mark.slow
@pytest.mark.localstack
def test_down_also_stops_the_localstack_the_lab_started(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    script = root / "scripts" / "localstack.sh"
    if (
        os.environ.get("KMSLAB_LOCALSTACK_URL")
        or subprocess.run([str(script), "status"], capture_output=True, check=False).returncode == 0
    ):
        pytest.skip("a LocalStack is already running; this test needs to own one")
    up = kmslab(
        tmp_path, "lab", "up", "--upstream", "localstack", "--port", str(free_port()), "--detach"
    )
    if up.returncode == 3:
        pytest.skip(f"LocalStack cannot start here: {up.stderr.strip()}")
    assert up.returncode == 0, up.stderr
    pid_path = root / ".kmslab" / "localstack" / "pid"
    ls_pid = int(pid_path.read_text())
    assert kmslab(tmp_path, "lab", "down").returncode == 0
    assert not pid_alive(ls_pid)
