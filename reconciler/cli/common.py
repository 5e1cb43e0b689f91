"""Options and helpers shared by the commands: config loading, seasons, errors, consoles."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from reconciler.config import Profile, load_profile
from reconciler.errors import ReconcilerError
from reconciler.seasons import parse_seasons

__all__ = [
    "ConfigOpt",
    "DebugOpt",
    "ProfileOpt",
    "SeasonsOpt",
    "StatsOpt",
    "TargetOpt",
    "console",
    "err_console",
    "fail",
    "guarded",
    "load",
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


def console() -> Console:
    """The stdout console (created per command; there is no global console).

    Returns:
        A rich console.
    """
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 120)


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
    err_console().print(f"[red]Error:[/red] {message}", markup=True, highlight=False)
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
        fail(str(exc).replace("\n", " "))
    except KeyboardInterrupt:
        err_console().print("[yellow]Interrupted.[/yellow]")
        raise typer.Exit(130) from None


def load(config: Path, profile: str | None) -> Profile:
    """Load the profile.

    Args:
        config: The config file.
        profile: The profile name, if given.

    Returns:
        The profile.
    """
    return load_profile(config, profile)


def seasons_of(profile: Profile, seasons: str | None) -> tuple[int, ...]:
    """The selected seasons: ``--seasons`` or the profile's default.

    Args:
        profile: The profile.
        seasons: The option value.

    Returns:
        The seasons.
    """
    return parse_seasons(seasons or profile.seasons)


def env_flag(name: str) -> bool:
    """Whether an environment flag is set to a true value.

    Args:
        name: Variable name.

    Returns:
        True for 1/true/yes.
    """
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


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
