"""`kmslab lab`: start, inspect, stop and control the lab endpoint (contract sections 1 and 5)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from harness.cli.options import check_aws_environment, endpoint_url_option
from harness.errors import EndpointError, UsageError
from harness.paths import state_dir

DEFAULT_PORT = 4566


def pid_file() -> Path:
    return state_dir() / "lab.pid"


def log_file() -> Path:
    return state_dir() / "lab.log"


def read_pid() -> dict[str, Any] | None:
    path = pid_file()
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text())
    except ValueError:
        return None
    return info if isinstance(info, dict) and isinstance(info.get("pid"), int) else None


def alive(pid: int) -> bool:
    """Whether `pid` still runs (a zombie waiting for its reaper has exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@click.group()
def lab() -> None:
    """The lab endpoint: an AWS-compatible endpoint on 127.0.0.1 that fails like AWS."""


@lab.command()
@click.option(
    "--upstream",
    default="moto",
    show_default=True,
    help="moto (embedded), localstack or an http:// URL",
)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535))
@click.option("--detach", is_flag=True, help="run in the background; return once healthy")
@click.option(
    "--room",
    is_flag=True,
    help="workshop room: operator credentials need a secret generated now (printed once, "
    "kept in a 0600 file)",
)
@click.option("--secret-quiet", is_flag=True, hidden=True)
@click.option(
    "--state",
    "state_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="lab state file: loaded at start if it exists, written when the lab stops",
)
def up(
    upstream: str, port: int, detach: bool, room: bool, secret_quiet: bool, state_file: str | None
) -> None:
    """Start the lab endpoint."""
    # The lab's own calls read AWS_PROFILE (botocore does): a missing profile is bad input,
    # refused here in one line rather than by the lab process (as `run` and `reproduce` do).
    check_aws_environment(region=False)
    if state_file is not None:
        state_file = os.path.abspath(state_file)
    if detach:
        _up_detached(upstream, port, room, state_file)
        return
    from harness.lab import LabServer

    server = LabServer(upstream=upstream, port=port, room=room, state_file=state_file)
    server.start()
    if server.room_secret is not None and not secret_quiet:
        _print_room_secret(server.room_secret, str(server.room_secret_file))

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(
        f"lab: ready on {server.endpoint} (upstream: {server.upstream.describe()}); Ctrl-C stops it"
    )
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        click.echo("lab: stopped")


def _print_room_secret(secret: str, path: str) -> None:
    click.echo(
        f"lab: room mode: operator secret {secret} (shown once; kept in {path}, mode 0600). "
        "Operators: access key id = account id, this secret."
    )


def _up_detached(
    upstream: str, port: int, room: bool = False, state_file: str | None = None
) -> None:
    from harness.lab import LabClient

    existing = read_pid()
    if existing and alive(existing["pid"]):
        raise UsageError(
            f"a lab is already running at {existing.get('endpoint')} (pid {existing['pid']}); run `kmslab lab down` first"
        )
    if port == 0:
        raise UsageError("--detach needs a fixed --port")
    from harness.lab.child import lab_up_argv

    log = log_file().open("w")
    if state_file is not None and os.path.exists(state_file):
        from harness.lab import state

        state.read(state_file)  # bad input is refused here, with one line, not in the log
    proc = subprocess.Popen(
        lab_up_argv(upstream, port, room=room, state_file=state_file),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    pid_file().write_text(
        json.dumps({"pid": proc.pid, "endpoint": endpoint, "upstream": upstream, "room": room})
    )
    client = LabClient(endpoint, timeout=2.0)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            pid_file().unlink(missing_ok=True)
            lines = log_file().read_text().strip().splitlines()
            last = lines[-1] if lines else f"exit status {code}"
            last = last.removeprefix("kmslab: error: ")
            if code == 3:
                raise EndpointError(last)
            raise UsageError(last)
        try:
            health = client.health()
        except EndpointError:
            time.sleep(0.1)
            continue
        click.echo(f"lab: ready on {endpoint} (upstream: {health.get('upstream')}, pid {proc.pid})")
        if room:
            from harness.lab.operator import room_secret_file

            path = room_secret_file(endpoint)
            _print_room_secret(path.read_text().strip(), str(path))
        return
    _terminate(proc.pid)
    pid_file().unlink(missing_ok=True)
    raise EndpointError(f"lab did not become healthy within 180 s; see {log_file()}")


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        if not alive(pid):
            return
        try:
            waited, _ = os.waitpid(pid, os.WNOHANG)
            if waited == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


@lab.command()
@endpoint_url_option(
    "a lab endpoint to ask (else the one `up --detach` started)", alias=True, dest="endpoint"
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def status(endpoint: str | None, fmt: str) -> None:
    """Health and endpoint of the running lab (exit 3 when none answers)."""
    from harness.lab import LabClient

    info = read_pid()
    if info is not None and not alive(info["pid"]):
        # The lab crashed or was killed: say so once and forget the pid, so the next `up`
        # and `status` do not trust it.
        pid_file().unlink(missing_ok=True)
        if endpoint is None:
            raise EndpointError(
                f"no lab is running: pid {info['pid']} ({info.get('endpoint')}) is gone; "
                "removed its stale pid file (start one with `kmslab lab up --detach`)"
            )
        info = None
    if endpoint is None:
        if info is None:
            raise EndpointError("no lab is running (start one with `kmslab lab up --detach`)")
        endpoint = str(info["endpoint"])
    health = LabClient(endpoint, timeout=3.0).health()
    if info and info.get("endpoint") == endpoint:
        health["pid"] = info["pid"]
    if fmt == "json":
        click.echo(json.dumps(health, indent=2))
    else:
        pid = f", pid {health['pid']}" if "pid" in health else ""
        click.echo(f"lab: running on {health['endpoint']} (upstream: {health['upstream']}{pid})")


@lab.command()
def down() -> None:
    """Stop the lab that `up --detach` started (and a LocalStack it started)."""
    info = read_pid()
    if info is None:
        click.echo("lab: not running")
        return
    pid = info["pid"]
    if alive(pid):
        _terminate(pid)
    pid_file().unlink(missing_ok=True)
    click.echo(f"lab: stopped (pid {pid})")


@lab.command()
@click.argument("file", type=click.Path(dir_okay=False))
@endpoint_url_option("lab endpoint (else the running detached lab)", alias=True, dest="endpoint")
def save(file: str, endpoint: str | None) -> None:
    """Save the running lab's state to FILE (load it with `lab up --state FILE`)."""
    from harness.lab import LabClient, state

    doc = state.check(LabClient(_endpoint(endpoint), timeout=120.0).state(), "the lab's answer")
    state.write(file, doc)
    summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in doc["summary"].items())
    click.echo(f"lab: state saved to {file} ({summary})")


@lab.command()
@endpoint_url_option("lab endpoint (else the running detached lab)", alias=True, dest="endpoint")
def reset(endpoint: str | None) -> None:
    """Clear all lab state (upstream, keys, issued credentials, controls, CloudTrail)."""
    from harness.lab import LabClient

    LabClient(_endpoint(endpoint)).reset()
    click.echo("lab: reset")


def _endpoint(endpoint: str | None) -> str:
    if endpoint:
        return endpoint
    info = read_pid()
    if info is None:
        env = os.environ.get("KMSLAB_LAB_ENDPOINT")
        if env:
            return env
        raise EndpointError(
            "no lab is running (start one with `kmslab lab up --detach`, or pass --endpoint-url)"
        )
    return str(info["endpoint"])


@lab.group()
def controls() -> None:
    """Lab controls (grant propagation, throttling, custom key stores, Health events, ...)."""


@controls.command("show")
@endpoint_url_option("lab endpoint (else the running detached lab)", alias=True, dest="endpoint")
def controls_show(endpoint: str | None) -> None:
    """Print the controls in force as JSON."""
    from harness.lab import LabClient

    click.echo(json.dumps(LabClient(_endpoint(endpoint)).get_controls(), indent=2, sort_keys=True))


@controls.command("set")
@click.option(
    "--file", "path", required=True, type=click.Path(dir_okay=False), help="JSON controls (merged)"
)
@click.option("--replace", is_flag=True, help="replace all controls instead of merging")
@endpoint_url_option("lab endpoint (else the running detached lab)", alias=True, dest="endpoint")
def controls_set(path: str, replace: bool, endpoint: str | None) -> None:
    """Merge controls from a JSON file (`kmslab lab controls show` prints the shape)."""
    from harness.lab import LabClient
    from harness.lab.controls import validate

    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        update = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from exc
    validate(update)
    client = LabClient(_endpoint(endpoint))
    result = client.replace_controls(update) if replace else client.set_controls(update)
    click.echo(json.dumps(result, indent=2, sort_keys=True))
