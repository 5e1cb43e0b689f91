"""Options and helpers shared by the commands: config loading, seasons, errors, consoles."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import click
import typer
from rich.console import Console
from rich.markup import escape

from reconciler import hints
from reconciler.config import Profile, load_profile
from reconciler.errors import ReconcilerError
from reconciler.render.common import hint
from reconciler.seasons import parse_seasons

__all__ = [
    "ConfigOpt",
    "DebugOpt",
    "ProfileOpt",
    "SeasonsOpt",
    "StatsOpt",
    "TargetOpt",
    "config_args",
    "console",
    "describe_unexpected",
    "err_console",
    "fail",
    "guarded",
    "hint",
    "load",
    "one_line",
    "print_aws_calls",
    "seasons_of",
]

T = TypeVar("T")

ConfigOpt = Annotated[Path, typer.Option("--config", help="Config file.", show_default=True)]
ProfileOpt = Annotated[
    str | None, typer.Option("--profile", help="Profile name (env RECONCILE_PROFILE).", show_default=False)
]
SeasonsOpt = Annotated[
    str | None, typer.Option("--seasons", help="e.g. 2010-2026, 2024 or 2019,2021-2023.", show_default=False)
]
TargetOpt = Annotated[
    list[str] | None,
    typer.Option("--target", help="Target name or address glob (repeatable).", show_default=False),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]
StatsOpt = Annotated[bool, typer.Option("--stats", help="Print the AWS API calls made, per operation (stderr).")]


#: The width of output that is not a terminal: wide enough that nothing is wrapped.
PIPE_WIDTH = 100_000


def console() -> Console:
    """The stdout console (created per command; there is no global console).

    In a terminal, output fits the terminal's width. Piped or redirected, nothing is wrapped:
    every line comes out whole, however long, for grep and for log files.

    Returns:
        A rich console.
    """
    tty = sys.stdout.isatty()
    return Console(highlight=False, soft_wrap=not tty, width=None if tty else PIPE_WIDTH)


def err_console() -> Console:
    """The stderr console.

    Returns:
        A rich console writing to stderr.
    """
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one red line and exit.

    Args:
        message: The message.
        code: The exit code.

    Raises:
        typer.Exit: Always.
    """
    err_console().print(f"[red]Error:[/red] {escape(message)}", markup=True, highlight=False)
    raise typer.Exit(code)


@contextmanager
def guarded(debug: bool) -> Iterator[None]:
    """Turn deliberate errors into one red line and exit 1 (tracebacks only with --debug).

    Args:
        debug: Re-raise with the traceback.

    Yields:
        Nothing.
    """
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        yield
    except ReconcilerError as exc:
        if debug:
            raise
        fail(one_line(exc))
    except KeyboardInterrupt:
        err_console().print("[yellow]Interrupted.[/yellow]")
        raise typer.Exit(130) from None
    except (typer.Exit, click.exceptions.ClickException, click.exceptions.Abort):
        raise
    except Exception as exc:
        if debug:
            raise
        fail(describe_unexpected(exc))
    finally:
        hints.set_command_args(())  # the next command (in one process: tests) prints its own


def one_line(exc: BaseException) -> str:
    """An error's message on one line.

    Args:
        exc: The error.

    Returns:
        Its text with line breaks replaced by spaces.
    """
    return " ".join(str(exc).split("\n")).strip() or type(exc).__name__


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in _leaves(sub)]
    return [exc]


def describe_unexpected(exc: BaseException) -> str:
    """One line for an error no command raised on purpose (the safety net of :func:`guarded`).

    A group of errors from concurrent work is reported by its first deliberate error; an
    operating-system error names its file and what failed; anything else is named as a bug.

    Args:
        exc: The error.

    Returns:
        The line.
    """
    leaves = _leaves(exc)
    ours = [e for e in leaves if isinstance(e, ReconcilerError)]
    if ours:
        return one_line(ours[0])
    first = leaves[0]
    if isinstance(first, OSError):
        where = f"{first.filename}: " if first.filename else ""
        return f"{where}{first.strerror or one_line(first)}"
    return f"unexpected {type(first).__name__}: {one_line(first)} (this is a bug; --debug shows the traceback)"


def load(config: Path, profile: str | None) -> Profile:
    """Load the profile.

    Args:
        config: The config file.
        profile: The profile name, if given.

    Returns:
        The profile.
    """
    # Commands printed inside messages (`reconcile doctor` in an AccessDenied) run as this one.
    hints.set_command_args(config_args(config, profile))
    return load_profile(config, profile)


DEFAULT_CONFIG = Path("config.yaml")


def config_args(config: Path, profile: str | None) -> tuple[str, ...]:
    """The ``--config``/``--profile`` options a printed command needs to run as this one did.

    Args:
        config: The ``--config`` value as given.
        profile: The ``--profile`` value, if given.

    Returns:
        e.g. ``("--config", "sb/config.yaml")``; empty for the defaults.
    """
    out: tuple[str, ...] = () if config == DEFAULT_CONFIG else ("--config", str(config))
    return out + (("--profile", profile) if profile else ())


def seasons_of(profile: Profile, seasons: str | None) -> tuple[int, ...]:
    """The selected seasons: ``--seasons`` or the profile's default.

    Args:
        profile: The profile.
        seasons: The option value.

    Returns:
        The seasons.
    """
    if seasons is not None:
        return parse_seasons(seasons)
    return parse_seasons(profile.seasons, f"{profile.config_file or 'config'}: profiles.{profile.name}.seasons")


def run_sync(fn: Callable[..., T], *args: Any) -> T:
    """Call a function (a seam for tests).

    Args:
        fn: The function.
        *args: Its arguments.

    Returns:
        Its result.
    """
    return fn(*args)


def print_aws_calls(backends: Any) -> None:
    """Print the AWS calls a command made, as one line on stderr (``--stats``).

    Args:
        backends: The command's :class:`~reconciler.adapters.factory.Backends`.
    """
    calls = getattr(backends, "aws_calls", None)
    text = str(calls) if calls is not None else "AWS calls: none (the profile uses no AWS service)"
    err_console().print(text, markup=False, highlight=False)
