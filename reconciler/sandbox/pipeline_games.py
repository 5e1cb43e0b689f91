"""``games`` in a pipeline sandbox: 30-day slices through raw, bronze and silver, typed per slice.

``orchestrate.py:_run_games_by_chunks`` calls ``/games`` per 30-day slice of the season window
and ``_write_layers`` writes each response: raw ``raw/games/ingested_at=D/part-<hash8(slice)>``,
bronze ``bronze/games/season=S/asof=D/`` (``_bronze_partition``, type ``season``) and silver
``fct_games`` after the ``gameId`` alias (``_apply_key_aliases``) under ``_silver_partition``:
bare ``season=S/`` since 2026-02-23, ``season=S/asof=D/`` before. An empty slice leaves an
``empty_response`` deadletter and nothing else. Every call leaves a ``tmp/`` marker.

One season (see :mod:`reconciler.sandbox.pipeline_history`) also keeps two runs of the old layout,
as the real 2025 did (``cbbd_etl_lake.md`` §6.3): every slice under ``asof=<first day>`` and the
second half again under ``asof=<second day>``, beside the current files. The twin's 2024 lies
only under ``asof=<second day>``, where ``normalize_fct_games_partitions.py --season 2024`` put it.
"""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.games_layer import game_slices
from reconciler.sandbox.pipeline_history import History, SeasonChoices, run_id
from reconciler.sandbox.pipeline_out import RANK, PipelineOut
from reconciler.sandbox.pipeline_rules import PRIMARY_KEYS, dedupe, normalize, silver_aliases, wire
from reconciler.synth.schedule import FINAL
from reconciler.synth.universe import Universe

__all__ = ["write_pipeline_games"]


def _run(
    out: PipelineOut,
    slices: list[tuple[dict[str, Any], list[dict[str, Any]]]],
    season: int,
    day: str,
    run: str,
    *,
    old_layout: bool,
) -> list[str]:
    """One ``games`` run over some slices of a season; returns the silver keys written."""
    keys = []
    for params, chunk in slices:
        out.tmp(run, "games", params)
        if not chunk:
            out.deadletter("games", day, params)
            continue
        name = out.part(params)
        out.raw("games", day, params, out.lines(chunk))
        out.table("bronze", "games", f"season={season}/asof={day}", name, normalize("games", chunk), day=day, rank=1)
        rows = dedupe(silver_aliases("fct_games", chunk), PRIMARY_KEYS["fct_games"])
        part = f"season={season}/asof={day}" if old_layout else f"season={season}"
        keys.append(
            out.table("silver", "fct_games", part, name, normalize("fct_games", rows), day=day, rank=RANK["games"])
        )
    return keys


def write_pipeline_games(
    out: PipelineOut, universe: Universe, choices: SeasonChoices, hist: History
) -> tuple[dict[str, int], dict[str, Any] | None]:
    """Write one season of ``games`` as cbbd_etl's runs did.

    Args:
        out: Where to write.
        universe: The universe.
        choices: The season's choices (whether it keeps old-layout duplicates).
        hist: The run days.

    Returns:
        The manifest's game counts, and the duplicate record when the season has old-layout copies.
    """
    season = choices.season
    sg = universe.season_games(season)
    records = [wire(sg.record(i, universe.team_table)) for i in range(len(sg))]
    slices = []
    for params in game_slices(season):
        lo, hi = params["startDateRange"][:10], params["endDateRange"][:10]
        slices.append((params, [r for r in records if lo <= r["startDate"][:10] <= hi]))
    seed = universe.seed
    if choices.games_asof_only is not None:  # normalized into season=S/asof=D; later runs skip the season
        day = choices.games_asof_only
        current = _run(out, slices, season, day, run_id(seed, f"games:{day}"), old_layout=True)
    else:
        current = _run(out, slices, season, hist.games, run_id(seed, f"games:{hist.games}"), old_layout=False)
    dup = None
    if choices.games_asof_duplicates:
        full = [s for s in slices if s[1]]
        first, second = hist.old_games
        old = _run(out, slices, season, first, run_id(seed, f"games:{first}"), old_layout=True)
        later = full[len(full) // 2 :]
        old += _run(out, later, season, second, run_id(seed, f"games:{second}"), old_layout=True)
        copies = sum(len(c) for _, c in full) + sum(len(c) for _, c in later)
        dup = {
            "table": "fct_games",
            "kind": "old_asof_layout_runs",
            "season": season,
            "asof_days": [first, second],
            "keys": sum(len(c) for _, c in full),
            "extra_rows": copies,
            "objects": sorted(current + old),
        }
    final = int((sg.status == FINAL).sum())
    counts = {
        "games": len(records),
        "final": final,
        "non_final": len(records) - final,
        "midnight_utc_starts": sum(1 for r in records if r["startDate"].endswith("T00:00:00.000Z")),
    }
    return counts, dup
