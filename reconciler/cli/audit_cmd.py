"""``reconcile audit``: write the completeness report and its pictures, and show them in the terminal."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from reconciler.cli.audit_context import sandbox_preamble
from reconciler.cli.common import ConfigOpt, DebugOpt, ProfileOpt, SeasonsOpt, console, guarded, load, seasons_of
from reconciler.cli.plan_cmds import check_output_file, write_output_file
from reconciler.core.observed import ObservedState
from reconciler.core.plan import Plan
from reconciler.observe.counts import table_counts
from reconciler.render.audit import AuditData, TableCounts, audit_targets, render_audit
from reconciler.render.coverage import MARKERS, STYLES, gaps_of, level
from reconciler.render.fill import fill_cost
from reconciler.render.pictures import MissingByDate, coverage_grid, missing_by_date
from reconciler.render.terminal import fill_lines, missing_strips
from reconciler.render.text import gate_texts
from reconciler.seasons import format_seasons
from reconciler.service import Session, layer_map

__all__ = ["audit_cmd", "print_matrix"]


def _counts(session: Session, seasons: tuple[int, ...]) -> dict[str, TableCounts]:
    b = session.backends
    layers = layer_map(session.profile)
    return {
        spec.name: table_counts(
            b.store,
            b.engine,
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


def _waiting_games(plan: Plan, observed: ObservedState) -> dict[str, int]:
    """Per target, the distinct games among the units known after apply (a derivation's worst case)."""
    out: dict[str, int] = {}
    for t in plan.targets:
        if not any(c.after_apply for c in t.coverage.values()):
            continue
        obs = observed.targets.get(t.target)
        if obs is None or obs.expected is None:
            continue
        planned = {u for a in t.actions for u in a.units}
        games = set()
        for u in obs.expected:
            have, state = obs.present.get(u.key), obs.states.get(u.key)
            if u.key in planned or (have is not None and have.complete) or (state and state.status == "empty"):
                continue
            games.add(u.key.split(":", 1)[0])
        out[t.target] = len(games)
    return out


def _pictures(plan: Plan, observed: ObservedState, output: Path) -> tuple[dict[str, str], MissingByDate | None]:
    """Write the two images beside the report; return their relative links and the missing-games data."""
    from reconciler.render.pngs import write_coverage_png, write_missing_png

    targets = audit_targets(plan)
    seasons = format_seasons(plan.season_list)
    links: dict[str, str] = {}
    if not targets:
        return links, None
    cov = output.with_name(f"{output.stem}-coverage.png")
    write_coverage_png(coverage_grid(targets, plan.season_list), cov, title=f"Coverage by season and table, {seasons}")
    links["coverage"] = cov.name
    missing = missing_by_date(plan, observed, targets)
    if missing.tables:
        png = output.with_name(f"{output.stem}-missing-games.png")
        write_missing_png(missing, png, title=f"Games missing from each fact table, by date, {seasons}")
        links["missing"] = png.name
    return links, missing if missing.tables else None


def audit_cmd(
    config: ConfigOpt = Path("config.yaml"),
    profile: ProfileOpt = None,
    seasons: SeasonsOpt = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="Where to write the report (default: the profile's reports_dir/data_audit.md)."),
    ] = None,
    images: Annotated[
        bool, typer.Option("--images/--no-images", help="Write the coverage and missing-games PNGs beside it.")
    ] = True,
    debug: DebugOpt = False,
) -> None:
    """Write the completeness audit (per season and fact table, and what filling it takes) as Markdown."""
    with guarded(debug):
        prof = load(config, profile)
        seas = seasons_of(prof, seasons)
        out = output if output is not None else Path(prof.reports_dir) / "data_audit.md"
        check_output_file(out, "--output", "data_audit.md")
        session = Session.open(prof)
        try:
            # Whole: the missing-games picture divides by the games played on each day, so it needs
            # every unit, not only those a plan lists (complete and verified-empty ones are counted).
            plan, observed = session.plan(seas, whole=True)
            counts = _counts(session, seas)
        finally:
            session.close()
        command = " ".join(["reconcile", *sys.argv[1:]]) if sys.argv[1:2] == ["audit"] else "reconcile audit"
        cost = fill_cost(
            plan,
            rate=float(prof.api.rate_limit_per_sec),
            quota=prof.api.monthly_quota,
            after_apply_games=_waiting_games(plan, observed),
        )
        links, missing = _pictures(plan, observed, out) if images else ({}, None)
        data = AuditData(
            plan=plan,
            counts=counts,
            command=command,
            config=str(config),
            version=_version(),
            preamble=sandbox_preamble(prof, config, command, seas),
            fill=cost,
            images=links,
        )
        text = render_audit(data)
        write_output_file(out, text, "--output")
        con = console()
        print_matrix(plan, con)
        if missing is None and not images:
            missing = missing_by_date(plan, observed, audit_targets(plan))
        if missing is not None and missing.tables:
            con.print(missing_strips(missing))
        for line in fill_lines(cost):
            con.print(line)
        wrote = ", ".join([str(out), *(str(out.with_name(n)) for n in links.values())])
        con.print(f"Wrote {wrote}")
