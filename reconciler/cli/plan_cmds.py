"""``reconcile plan`` and ``reconcile apply``."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.console import Console
from rich.table import Table

from reconciler.cli.common import (
    ConfigOpt,
    DebugOpt,
    ProfileOpt,
    SeasonsOpt,
    StatsOpt,
    TargetOpt,
    console,
    guarded,
    load,
    print_aws_calls,
    seasons_of,
)
from reconciler.core.plan import Plan
from reconciler.errors import InputError, StalePlan
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text
from reconciler.service import Session

__all__ = ["apply_cmd", "plan_cmd"]

FormatOpt = Annotated[str, typer.Option("--format", help="text, markdown or json.")]


def _emit(plan: Plan, fmt: str, out: Path | None, con: Console, rate: float) -> None:
    if fmt not in ("text", "markdown", "json"):
        raise InputError(f"--format: {fmt!r} is not one of text, markdown, json")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(plan.to_json(), encoding="utf-8")
    if fmt == "json":
        sys.stdout.write(plan.to_json())
    elif fmt == "markdown":
        hint = f"`{out}`" if out else ""
        sys.stdout.write(render_markdown(plan, rate=rate, json_hint=hint))
    else:
        render_text(plan, con, rate=rate)
        if out is not None:
            con.print(f"[dim]Saved the plan to {out}. Apply exactly it with: reconcile apply {out}[/dim]")


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
        session = Session.open(prof)
        try:
            plan, _ = session.plan(seas, target or [], retry_failed=retry_failed)
        finally:
            session.close()
        _emit(plan, fmt, out, console(), float(prof.api.rate_limit_per_sec))
        if stats:
            print_aws_calls(session.backends)
        code = _exit_code(plan, detailed_exitcode)
    raise typer.Exit(code)


def _result_table(result: object) -> Table:
    tab = Table(title="apply", show_edge=False, header_style="bold")
    for col in ("done", "empty", "failed", "remaining", "API calls", "rows written"):
        tab.add_column(col, justify="right")
    r = result
    tab.add_row(
        f"{r.done:,}",  # type: ignore[attr-defined]
        f"{r.empty:,}",  # type: ignore[attr-defined]
        f"{r.failed:,}",  # type: ignore[attr-defined]
        f"{r.remaining:,}",  # type: ignore[attr-defined]
        f"{r.api_calls:,}",  # type: ignore[attr-defined]
        f"{r.rows:,}",  # type: ignore[attr-defined]
    )
    return tab


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
    from reconciler.apply.run import ApplyOptions, run_apply

    with guarded(debug):
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
        )
        code = anyio.run(run_apply, prof, opts, con)
    raise typer.Exit(code)


def load_plan_file(path: Path) -> Plan:
    """Read a saved plan.

    Args:
        path: The plan file.

    Returns:
        The plan.

    Raises:
        InputError: If the file is missing or not a plan.
        StalePlan: If its format version is not supported.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: plan file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a JSON plan file ({exc})") from None
    if not isinstance(data, dict) or data.get("format_version") != 1:
        raise StalePlan(f"{path}: unsupported plan format_version {data.get('format_version')!r}")
    try:
        return Plan.model_validate(data)
    except ValueError as exc:
        raise InputError(f"{path}: not a valid plan file ({str(exc).splitlines()[0]})") from None
