"""``reconcile audit``: write the completeness report, and show its matrix in the terminal."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from reconciler.audit import AuditData, TableCounts, audit_targets, render_audit
from reconciler.cli.common import ConfigOpt, DebugOpt, ProfileOpt, SeasonsOpt, console, guarded, load, seasons_of
from reconciler.cli.plan_cmds import check_output_file, write_output_file
from reconciler.core.plan import Plan
from reconciler.observe.counts import table_counts
from reconciler.render.coverage import MARKERS, STYLES, gaps_of, level
from reconciler.render.text import gate_texts
from reconciler.service import Session, layer_map

__all__ = ["audit_cmd", "print_matrix"]


def _counts(session: Session, seasons: tuple[int, ...]) -> dict[str, TableCounts]:
    b = session.backends
    layers = layer_map(session.profile)
    return {
        spec.name: table_counts(
            b.store,  # type: ignore[attr-defined]
            b.engine,  # type: ignore[attr-defined]
            spec,
            layers.get(spec.target.silver.database, "silver"),
            seasons,
        )
        for spec in session.specs
    }


def _version() -> str:
    try:
        return metadata.version("cbbd-reconciler")
    except metadata.PackageNotFoundError:
        return ""


def print_matrix(plan: Plan, con: Console) -> None:
    """Print the season × table coverage matrix and the gate lines, in colour.

    Args:
        plan: The plan the audit was computed from.
        con: The console.
    """
    targets = audit_targets(plan)
    tab = Table(title="coverage (season × table)", show_edge=False, header_style="bold")
    tab.add_column("season", justify="right")
    for t in targets:
        tab.add_column(t.table.rsplit(".", 1)[-1] or t.target, justify="left")
    for s in plan.season_list:
        cells: list[Text | str] = [str(s)]
        for t in targets:
            lv = level(t, str(s))
            c = t.coverage.get(str(s))
            if c is None or lv in ("none", "pending"):
                cells.append(Text(MARKERS[lv] + (" after apply" if lv == "pending" else ""), style=STYLES[lv]))
                continue
            gaps = f"  {gaps_of(c):,} gaps" if gaps_of(c) else ""
            cells.append(Text(f"{MARKERS[lv]} {100 * c.ratio:5.1f}%{gaps}", style=STYLES[lv]))
        tab.add_row(*cells)
    con.print(tab)
    for line in gate_texts(targets):
        con.print(line)


def audit_cmd(
    config: ConfigOpt = Path("config.yaml"),
    profile: ProfileOpt = None,
    seasons: SeasonsOpt = None,
    output: Annotated[Path, typer.Option("--output", help="Where to write the report.")] = Path(
        "reports/data_audit.md"
    ),
    debug: DebugOpt = False,
) -> None:
    """Write the completeness audit (per season and fact table) as Markdown."""
    with guarded(debug):
        prof = load(config, profile)
        seas = seasons_of(prof, seasons)
        check_output_file(output, "--output", "data_audit.md")
        session = Session.open(prof)
        try:
            plan, _ = session.plan(seas)
            counts = _counts(session, seas)
        finally:
            session.close()
        command = " ".join(["reconcile", *sys.argv[1:]]) if sys.argv[1:2] == ["audit"] else "reconcile audit"
        data = AuditData(
            plan=plan,
            counts=counts,
            command=command,
            config=str(config),
            version=_version(),
        )
        text = render_audit(data)
        write_output_file(output, text, "--output")
        con = console()
        print_matrix(plan, con)
        con.print(f"Wrote {output}")
