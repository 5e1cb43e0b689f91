"""``reconcile audit``: write the completeness report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from reconciler.audit import AuditData, TableCounts, render_audit
from reconciler.cli.common import ConfigOpt, DebugOpt, ProfileOpt, SeasonsOpt, console, guarded, load, seasons_of
from reconciler.observe.queries import duplicates_query, season_counts_query
from reconciler.service import Session, layer_map

__all__ = ["audit_cmd"]


def _counts(session: Session, seasons: tuple[int, ...]) -> dict[str, TableCounts]:
    out: dict[str, TableCounts] = {}
    b = session.backends
    layers = layer_map(session.profile)
    params = {"season_start": min(seasons), "season_end": max(seasons)}
    for spec in session.specs:
        silver = spec.target.silver
        prefix = f"{layers.get(silver.database, 'silver')}/{silver.table}/"
        if not any(o.key.endswith(".parquet") for o in b.store.list_objects(prefix)):  # type: ignore[attr-defined]
            out[spec.name] = TableCounts(f"{silver.database}.{silver.table}", {}, {}, {})
            continue
        q = season_counts_query(silver.database, silver.table, silver.unit_columns)
        t = b.engine.query(q, params).table  # type: ignore[attr-defined]
        rows = dict(zip(t.column("season").to_pylist(), t.column("n").to_pylist(), strict=True))
        units = dict(zip(t.column("season").to_pylist(), t.column("units").to_pylist(), strict=True))
        d = b.engine.query(duplicates_query(silver.database, silver.table, silver.key), params).table  # type: ignore[attr-defined]
        dups = dict(zip(d.column("season").to_pylist(), d.column("dup_rows").to_pylist(), strict=True))
        out[spec.name] = TableCounts(
            f"{silver.database}.{silver.table}",
            {int(k): int(v) for k, v in rows.items()},
            {int(k): int(v) for k, v in units.items()},
            {int(k): int(v or 0) for k, v in dups.items()},
        )
    return out


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
        session = Session.open(prof)
        try:
            plan, _ = session.plan(seas)
            counts = _counts(session, seas)
        finally:
            session.close()
        command = " ".join(["reconcile", *sys.argv[1:]]) if sys.argv[1:2] == ["audit"] else "reconcile audit"
        text = render_audit(AuditData(plan=plan, counts=counts, command=command))
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        con = console()
        tab = Table(title="coverage", show_edge=False, header_style="bold")
        tab.add_column("season")
        for t in plan.targets:
            tab.add_column(t.target, justify="right")
        for s in plan.season_list:
            cells: list[Text | str] = [str(s)]
            for t in plan.targets:
                c = t.coverage.get(str(s))
                if c is None or c.expected == 0:
                    cells.append("·")
                    continue
                style = "green" if c.ratio >= 1 else ("yellow" if c.ratio >= t.error_below else "red")
                cells.append(Text(f"{100 * c.ratio:.1f}%", style=style))
            tab.add_row(*cells)
        con.print(tab)
        con.print(f"Wrote {output}")
