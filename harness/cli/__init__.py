"""The `kmslab` command: one module per command group, loaded on demand.

Each entry of COMMANDS names `module:attribute` of a click command; modules are
imported only when their command runs (or when help lists them), so a slow import
in one area never slows the others.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from harness import __version__
from harness.errors import KmslabError

COMMANDS: dict[str, tuple[str, str]] = {
    "lab": ("harness.cli.lab", "lab"),
    "scenarios": ("harness.cli.scenarios", "scenarios"),
    "run": ("harness.cli.run", "run"),
    "reproduce": ("harness.cli.run", "reproduce"),
    "collect": ("harness.cli.collect", "collect"),
    "diagnose": ("harness.cli.diagnose", "diagnose"),
    "evaluate": ("harness.cli.evaluate", "evaluate"),
    "workshop": ("harness.cli.workshop", "workshop"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = {name for name in COMMANDS if self._load(name) is not None}
        return sorted(lazy | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name) or super().get_command(ctx, cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # A command group whose module is not written yet is simply absent.
            if exc.name == module_name:
                return None
            raise
        command = getattr(module, attr, None)
        return command if isinstance(command, click.Command) else None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kmslab")
def cli() -> None:
    """Reproduce, diagnose and assert AWS KMS decryption failures.

    \b
    Exit codes: 0 done (a diagnosis that found faults still exits 0),
    2 bad input or usage, 3 endpoint or upstream unreachable, 1 unexpected.
    """


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the CLI and turns every failure into one line and an exit code."""
    try:
        # Without standalone mode click returns a command's ctx.exit() code instead of exiting.
        result = cli.main(args=argv, prog_name="kmslab", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("kmslab: aborted", err=True)
        return 130
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.UsageError as exc:
        where = f"kmslab {exc.ctx.command_path.partition(' ')[2]}".rstrip() if exc.ctx else "kmslab"
        hint = " (see --help)" if exc.ctx else ""
        click.echo(f"{where}: error: {exc.format_message()}{hint}", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"kmslab: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except KmslabError as exc:
        click.echo(f"kmslab: error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("kmslab: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one line unless the user asks for the traceback
        if os.environ.get("KMSLAB_DEBUG"):
            raise
        click.echo(
            f"kmslab: unexpected error: {type(exc).__name__}: {exc} (set KMSLAB_DEBUG=1 for details)",
            err=True,
        )
        return 1
    return result if isinstance(result, int) else 0


def run_main() -> Any:  # pragma: no cover - used by python -m harness
    sys.exit(main())
