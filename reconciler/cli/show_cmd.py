"""``reconcile show PLAN_FILE``: render a saved plan again (text, Markdown or JSON), without observing.

CI uses it to write the whole plan to the job summary (``--max-chars``), after the same plan
went into a pull-request comment within GitHub's limit.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.common import DebugOpt, console, guarded
from reconciler.cli.plan_file import load_plan_file
from reconciler.errors import InputError
from reconciler.render.markdown import GITHUB_COMMENT_LIMIT, render_markdown
from reconciler.render.text import render_text

__all__ = ["show_cmd"]


def _rate(api_calls: int, seconds: float) -> float:
    # The plan keeps the estimate (rounded to 0.1 s), not the rate: recover it to one decimal.
    return round(api_calls / seconds, 1) if api_calls and seconds else 3.0


def show_cmd(
    plan_file: Annotated[Path, typer.Argument(help="A plan saved with `plan --out`.")],
    fmt: Annotated[str, typer.Option("--format", help="text, markdown or json.")] = "text",
    max_chars: Annotated[
        int, typer.Option("--max-chars", help="Markdown: the most characters to write.", min=2_000)
    ] = GITHUB_COMMENT_LIMIT,
    debug: DebugOpt = False,
) -> None:
    """Show a saved plan without observing the lake again."""
    with guarded(debug):
        if fmt not in ("text", "markdown", "json"):
            raise InputError(f"--format: {fmt!r} is not one of text, markdown, json")
        plan = load_plan_file(plan_file)
        rate = _rate(plan.summary.api_calls, plan.summary.estimated_seconds)
        if fmt == "json":
            sys.stdout.write(plan.to_json())
        elif fmt == "markdown":
            sys.stdout.write(render_markdown(plan, rate=rate, limit=max_chars, json_hint=f"`{plan_file}`"))
        else:
            render_text(plan, console(), rate=rate)
