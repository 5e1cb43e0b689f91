"""``reconcile plan`` and ``reconcile apply``."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.console import Console
from rich.markup import escape

from reconciler.cli.common import (
    ConfigOpt,
    DebugOpt,
    ProfileOpt,
    SeasonsOpt,
    StatsOpt,
    TargetOpt,
    config_args,
    console,
    guarded,
    hint,
    load,
    print_aws_calls,
    seasons_of,
)
from reconciler.core.plan import Plan
from reconciler.errors import InputError
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text
from reconciler.service import Session

__all__ = ["apply_cmd", "check_output_file", "plan_cmd", "write_output_file"]

FormatOpt = Annotated[str, typer.Option("--format", help="text, markdown or json.")]


def check_output_file(path: Path | None, option: str, example: str = "plan.json") -> None:
    """Refuse an output path that cannot be written as a file, before any work is done.

    Args:
        path: The path (None: no output file).
        option: The option that named it, for the message.
        example: A file name to suggest when it names a directory.

    Raises:
        InputError: If it is a directory, or its directory cannot be created or written.
    """
    if path is None:
        return
    if path.is_dir():
        raise InputError(f"{option}: {path} is a directory; name a file (e.g. {path / example})")
    parent = path.parent
    existing = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InputError(f"{option}: {existing} is not a directory")
    target = parent if parent.exists() else existing
    if target is not None and not os.access(target, os.W_OK | os.X_OK):
        raise InputError(f"{option}: cannot write to {target} (permission denied)")
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{option}: cannot write {path} (permission denied)")


def write_output_file(path: Path, text: str, option: str) -> None:
    """Write an output file, turning an operating-system error into one line.

    Args:
        path: The file.
        text: Its content.
        option: The option that named it.

    Raises:
        InputError: If it cannot be written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{option}: cannot write {path} ({exc.strerror or exc})") from None


def _emit(plan: Plan, fmt: str, out: Path | None, con: Console, rate: float, args: tuple[str, ...]) -> None:
    if fmt not in ("text", "markdown", "json"):
        raise InputError(f"--format: {fmt!r} is not one of text, markdown, json")
    if out is not None:
        write_output_file(out, plan.to_json(), "--out")
    if fmt == "json":
        sys.stdout.write(plan.to_json())
    elif fmt == "markdown":
        md_hint = f"`{out}`" if out else ""
        sys.stdout.write(
            render_markdown(plan, rate=rate, json_hint=md_hint, apply_hint=hint("apply", "PLAN_FILE", args=args))
        )
    else:
        render_text(plan, con, rate=rate)
        if out is not None:
            con.print(
                f"[dim]Saved the plan to {escape(str(out))}. "
                f"Apply exactly it with: {escape(hint('apply', str(out), args=args))}[/dim]"
            )


def _exit_code(plan: Plan, detailed: bool) -> int:
    if not detailed:
        return 0
    if any(t.gate == "error" for t in plan.targets):
        return 1
    return 2 if plan.summary.changes else 0


def plan_cmd(
    config: ConfigOpt = Path("config.yaml"),
    profile: ProfileOpt = None,
    seasons: SeasonsOpt = None,
    target: TargetOpt = None,
    fmt: FormatOpt = "text",
    out: Annotated[Path | None, typer.Option("--out", help="Save the plan file (JSON).")] = None,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes, 1 below error_below.")
    ] = False,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Re-plan quarantined units.")] = False,
    stats: StatsOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Observe the lake and print what is missing or inconsistent, and what apply would do."""
    with guarded(debug):
        prof = load(config, profile)
        seas = seasons_of(prof, seasons)
        if fmt not in ("text", "markdown", "json"):
            raise InputError(f"--format: {fmt!r} is not one of text, markdown, json")
        check_output_file(out, "--out")
        session = Session.open(prof)
        try:
            plan, _ = session.plan(seas, target or [], retry_failed=retry_failed)
        finally:
            session.close()
        _emit(plan, fmt, out, console(), float(prof.api.rate_limit_per_sec), config_args(config, profile))
        if stats:
            print_aws_calls(session.backends)
        code = _exit_code(plan, detailed_exitcode)
    raise typer.Exit(code)


def apply_cmd(
    plan_file: Annotated[Path | None, typer.Argument(help="A plan saved with `plan --out`.")] = None,
    config: ConfigOpt = Path("config.yaml"),
    profile: ProfileOpt = None,
    seasons: SeasonsOpt = None,
    target: TargetOpt = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask for confirmation.")] = False,
    allow_delete: Annotated[bool, typer.Option("--allow-delete", help="Also execute delete actions.")] = False,
    max_requests: Annotated[int | None, typer.Option("--max-requests", help="Stop after N API requests.")] = None,
    max_duration: Annotated[
        float | None, typer.Option("--max-duration", help="Stop starting new work after D seconds.")
    ] = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Re-plan quarantined units.")] = False,
    replan: Annotated[bool, typer.Option("--replan", help="Replan when a saved plan is stale.")] = False,
    stats: StatsOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Apply a saved plan, or plan and apply after confirmation."""
    from reconciler.cli.apply_run import ApplyOptions, run_apply

    with guarded(debug):
        if max_requests is not None and max_requests < 0:
            raise InputError(f"--max-requests: {max_requests} is negative (a number of API requests, 0 or more)")
        if max_duration is not None and not max_duration > 0:
            raise InputError(f"--max-duration: {max_duration:g} must be a positive number of seconds")
        prof = load(config, profile)
        seas = seasons_of(prof, seasons)
        con = console()
        opts = ApplyOptions(
            seasons=seas,
            targets=tuple(target or ()),
            auto_approve=auto_approve,
            allow_delete=allow_delete,
            max_requests=max_requests,
            max_duration=max_duration,
            retry_failed=retry_failed,
            replan=replan,
            plan_file=plan_file,
            command=" ".join(["reconcile", *sys.argv[1:]]),
            host=socket.gethostname(),
            stats=stats,
            hint_args=config_args(config, profile),
        )
        code = anyio.run(run_apply, prof, opts, con)
    raise typer.Exit(code)
