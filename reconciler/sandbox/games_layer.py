"""Write ``games``: raw and bronze per 30-day slice, silver consolidated per season."""

from __future__ import annotations

import datetime as dt
from typing import Any

from reconciler.lake.layout import hash8, raw_key, table_key
from reconciler.lake.schemas import BRONZE_TABLES, SILVER_TABLES, records_to_table
from reconciler.lake.writer import encode_raw
from reconciler.sandbox.sink import Sink
from reconciler.synth.schedule import FINAL
from reconciler.synth.universe import Universe

__all__ = ["CHUNK_DAYS", "consolidated_key", "game_slices", "write_games"]

CHUNK_DAYS = 30


def game_slices(season: int) -> list[dict[str, Any]]:
    """The 30-day ``/games`` calls cbbd_etl makes for a season (Aug 1 of S-1 .. Jul 31 of S).

    Args:
        season: The season.

    Returns:
        The parameter dicts, in order (``season``, ``startDateRange``, ``endDateRange``).
    """
    start = dt.date(season - 1, 8, 1)
    last = dt.date(season, 7, 31)
    out: list[dict[str, Any]] = []
    while start <= last:
        end = min(start + dt.timedelta(days=CHUNK_DAYS - 1), last)
        out.append(
            {
                "season": season,
                "startDateRange": f"{start.isoformat()}T00:00:00Z",
                "endDateRange": f"{end.isoformat()}T23:59:59Z",
            }
        )
        start = end + dt.timedelta(days=1)
    return out


def consolidated_key(table: str, season: int, rows: int, date: str | None = None) -> str:
    """The key of a ``deduplicate_silver.py``-style consolidated silver file.

    Args:
        table: The silver table.
        season: The season.
        rows: The file's row count.
        date: The date partition, for per-date tables.

    Returns:
        ``silver/<table>/season=S[/date=D]/part-<hash8>.parquet``.
    """
    params: dict[str, Any] = {"table": table, "season": season, "rows": rows}
    part = f"season={season}"
    if date is not None:
        params["date"] = date
        part += f"/date={date}"
    return f"silver/{table}/{part}/part-{hash8(params)}.parquet"


def write_games(sink: Sink, universe: Universe, season: int, ingest: str) -> dict[str, int]:
    """Write one season of games to raw, bronze and silver.

    Args:
        sink: Where to write.
        universe: The universe.
        season: The season.
        ingest: The ingest date (``asof`` / ``ingested_at``).

    Returns:
        Counts: games, final, non-final, 00:00Z starts.
    """
    sg = universe.season_games(season)
    records = [sg.record(i, universe.team_table) for i in range(len(sg))]
    sink.put_parquet(
        consolidated_key("fct_games", season, len(records)),
        records_to_table(SILVER_TABLES["fct_games"], records),
    )
    for params in game_slices(season):
        lo, hi = params["startDateRange"][:10], params["endDateRange"][:10]
        chunk = [r for r in records if lo <= r["startDate"][:10] <= hi]
        if not chunk:
            continue  # cbbd_etl writes nothing for an empty response
        part = f"season={season}/asof={ingest}"
        sink.put_parquet(table_key("bronze", "games", part, params), records_to_table(BRONZE_TABLES["games"], chunk))
        sink.put(raw_key("games", ingest, params), encode_raw(chunk))
    final = int((sg.status == FINAL).sum())
    return {
        "games": len(records),
        "final": final,
        "non_final": len(records) - final,
        "midnight_utc_starts": sum(1 for r in records if r["startDate"].endswith("T00:00:00.000Z")),
    }
