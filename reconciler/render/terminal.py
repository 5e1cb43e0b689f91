"""The audit's pictures and fill cost in the terminal, compact and in colour (rich).

* :func:`missing_strips`: the missing-games-by-date picture as one line per season and table:
  each character is a week of the season, its block height and colour the share of that week's
  games that are missing (blank: no game that week);
* :func:`fill_lines`: the "What it takes to fill" section in a few lines.
"""

from __future__ import annotations

import numpy as np
from rich.table import Table
from rich.text import Text

from reconciler.render.common import duration
from reconciler.render.fill import FillCost
from reconciler.render.pictures import MissingByDate

__all__ = ["fill_lines", "missing_strips"]

_BLOCKS = " ▁▂▃▄▅▆▇█"
_WEEK = 7


def _style(share: float) -> str:
    if share <= 0:
        return "green"
    if share < 0.1:
        return "yellow"
    if share < 0.5:
        return "dark_orange"
    return "bold red"


def missing_strips(data: MissingByDate, *, week: int = _WEEK) -> Table:
    """The missing games by date, one character per week of the season.

    Args:
        data: The counts.
        week: Days per character.

    Returns:
        A table: a row per season, a column per table.
    """
    tab = Table(
        title="missing games by week of the season (Nov → Apr; block height: share of the week's games missing)",
        show_edge=False,
        header_style="bold",
        pad_edge=False,
    )
    tab.add_column("season", justify="right")
    for table in data.tables:
        tab.add_column(table, no_wrap=True)
    n_weeks = -(-data.days // week)
    pad = n_weeks * week - data.days
    played = np.pad(data.played, ((0, 0), (0, pad))).reshape(len(data.seasons), n_weeks, week).sum(axis=2)
    sums = {
        t: np.pad(c, ((0, 0), (0, pad))).reshape(len(data.seasons), n_weeks, week).sum(axis=2)
        for t, c in data.counts.items()
    }
    for i, season in enumerate(data.seasons):
        cells: list[Text | str] = [str(season)]
        for table in data.tables:
            line = Text()
            for w in range(n_weeks):
                games = int(played[i, w])
                if games == 0:
                    line.append(" ")
                    continue
                share = int(sums[table][i, w]) / games
                level = 0 if share <= 0 else max(1, round(share * (len(_BLOCKS) - 1)))
                line.append(_BLOCKS[level] if level else "·", style=_style(share))
            cells.append(line)
        tab.add_row(*cells)
    return tab


def fill_lines(cost: FillCost) -> list[str]:
    """The fill cost in a few lines of rich markup.

    Args:
        cost: The priced plan.

    Returns:
        Lines.
    """
    share = cost.share
    per = ", ".join(f"{t.target} {t.calls:,}" for t in cost.targets if t.calls) or "none"
    zero = sum(t.from_bronze + t.derived for t in cost.targets)
    waiting = sum(t.after_apply for t in cost.targets)
    out = [
        f"[bold]To fill:[/bold] {cost.calls:,} API calls ({per}); {duration(cost.seconds)} at {cost.rate:g} req/s; "
        f"{100 * share:.1f}% of {cost.quota:,} calls a month (api.monthly_quota).",
    ]
    if zero or waiting:
        out.append(f"  {zero:,} units at 0 calls (bronze or derived); {waiting:,} known after apply.")
    if cost.deletes:
        kinds: dict[str, int] = {}
        for d in cost.deletes:
            kinds[d.kind] = kinds.get(d.kind, 0) + d.objects + d.partitions
        what = ", ".join(f"{n:,} {k}" for k, n in kinds.items())
        out.append(f"  [yellow]Needs --allow-delete:[/yellow] {what}.")
    return out
