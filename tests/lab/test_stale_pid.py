"""`kmslab lab status` after a crash: the pid file names a process that is gone."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from lab.test_cli import kmslab


def test_status_reports_a_stale_pid_and_removes_it(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    pid_file = tmp_path / "lab.pid"
    pid_file.write_text(
        json.dumps({"pid": gone.pid, "endpoint": "http://127.0.0.1:45999", "upstream": "moto"})
    )
    result = kmslab(tmp_path, "lab", "status")
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert f"pid {gone.pid}" in lines[0] and "stale" in lines[0]
    assert not pid_file.exists()
    again = kmslab(tmp_path, "lab", "status")
    assert again.returncode == 3 and "stale" not in again.stderr
