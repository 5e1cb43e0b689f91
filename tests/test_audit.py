"""``reconcile audit`` end to end: every number of the report, checked against the Parquet files.

A sandbox of all seasons 2010-2026 at a tiny scale, with drift (fct_games duplicated under an
old ``asof=`` layout and a re-run chunk file). The expected numbers are computed here straight
from the silver Parquet objects with pyarrow and the specs' completeness rules, not through the
query engine the audit uses.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.e2e_helpers import cli, make_sandbox

SEASONS = tuple(range(2010, 2027))
TABLES = {"games": "fct_games", "plays": "fct_plays", "substitutions": "fct_substitutions", "lineups": "fct_lineups"}
UNITS = {"fct_plays": ("gameId",), "fct_substitutions": ("gameId",), "fct_lineups": ("gameId", "teamid")}
KEYS = {
    "fct_games": ("gameId",),
    "fct_plays": ("id",),
    "fct_substitutions": ("gameId", "athleteId", "sub_in_period", "sub_in_seconds_remaining"),
    "fct_lineups": ("gameId", "teamid", "idhash"),
}
EXTRA = {
    "fct_games": ("status", "homeTeamId", "awayTeamId"),
    "fct_plays": ("period",),
    "fct_substitutions": ("teamId",),
}


@dataclass
class Truth:
    """What the Parquet files hold, per table and season."""

    rows: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    keys: dict[str, dict[int, Counter[tuple[Any, ...]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Counter))
    )
    units: dict[str, dict[int, dict[str, list[dict[str, Any]]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    )
    expected: dict[str, dict[int, set[str]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))


def read_lake(lake: Path) -> Truth:
    truth = Truth()
    for table in KEYS:
        for path in sorted((lake / "silver" / table).rglob("*.parquet")):
            m = re.search(r"/season=(\d+)/", str(path))
            if m is None:
                continue
            season = int(m.group(1))
            cols = [c for c in (*KEYS[table], *UNITS.get(table, ()), *EXTRA.get(table, ())) if c != "season"]
            rows = pq.read_table(path, columns=sorted(set(cols))).to_pylist()
            truth.rows[table][season] += len(rows)
            for r in rows:
                truth.keys[table][season][tuple(r[c] for c in KEYS[table])] += 1
                if table in UNITS:
                    truth.units[table][season][":".join(str(r[c]) for c in UNITS[table])].append(r)
                elif r["status"] == "final":
                    gid = str(r["gameId"])
                    for t in ("fct_plays", "fct_substitutions"):
                        truth.expected[t][season].add(gid)
                    truth.expected["fct_lineups"][season] |= {f"{gid}:{r['homeTeamId']}", f"{gid}:{r['awayTeamId']}"}
    return truth


def complete(table: str, rows: list[dict[str, Any]]) -> bool:
    """The specs' completeness rules (specs/*.yaml expect.complete)."""
    if table == "fct_plays":
        return len(rows) >= 20 and max(r["period"] for r in rows) >= 2
    if table == "fct_substitutions":
        return len(rows) >= 10 and len({r["teamId"] for r in rows}) == 2
    return len(rows) >= 3


def section_rows(report: str, heading: str) -> dict[int, list[str]]:
    """The season rows of the first table under a ``## heading``."""
    body = report.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    out = {}
    for line in body.splitlines():
        m = re.match(r"^\| (\d{4}) \| (.*) \|$", line)
        if m:
            out[int(m.group(1))] = [c.strip() for c in m.group(2).split(" | ")]
    return out


def num(cell: str) -> int:
    return int(cell.replace(",", ""))


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Truth, str]:
    root = tmp_path_factory.mktemp("audit")
    cfg, _, _ = make_sandbox(root, seasons="2010-2026", scale=0.002, seed=11, drift=True)
    out = root / "reports" / "data_audit.md"
    r = cli(["audit", "--config", str(cfg), "--seasons", "2010-2026", "--output", str(out)])
    assert r.exit_code == 0, r.output
    return out.read_text(encoding="utf-8"), read_lake(root / "lake"), r.stdout


def test_report_covers_every_season_and_the_four_fact_tables(audited: tuple[str, Truth, str]) -> None:
    report, _, _ = audited
    for heading in (
        "fct_games",
        "fct_plays vs fct_games",
        "fct_substitutions vs fct_games",
        "fct_lineups vs fct_games",
    ):
        assert set(section_rows(report, heading)) == set(SEASONS), heading
    matrix = section_rows(report, "Coverage matrix")
    assert set(matrix) == set(SEASONS)
    assert "| season | fct_games | fct_plays | fct_substitutions | fct_lineups |" in report


def test_record_counts_match_the_parquet_files(audited: tuple[str, Truth, str]) -> None:
    report, truth, _ = audited
    rows = section_rows(report, "Record counts")
    for season in SEASONS:
        got = [num(c) for c in rows[season]]
        assert got == [truth.rows[t][season] for t in TABLES.values()], season
    assert sum(truth.rows["fct_games"].values()) > 0 and sum(truth.rows["fct_plays"].values()) > 0


def test_fct_games_rows_games_and_duplicates_match(audited: tuple[str, Truth, str]) -> None:
    report, truth, _ = audited
    rows = section_rows(report, "fct_games")
    dup_seasons = 0
    for season in SEASONS:
        keys = truth.keys["fct_games"][season]
        dups = sum(n - 1 for n in keys.values() if n > 1)
        dup_seasons += dups > 0
        assert [num(c) for c in rows[season][:3]] == [truth.rows["fct_games"][season], len(keys), dups], season
    assert dup_seasons >= 1  # the drift duplicated a season under asof=


@pytest.mark.parametrize("table", ["fct_plays", "fct_substitutions", "fct_lineups"])
def test_fact_table_against_fct_games_matches_the_parquet_files(audited: tuple[str, Truth, str], table: str) -> None:
    report, truth, _ = audited
    rows = section_rows(report, f"{table} vs fct_games")
    for season in SEASONS:
        expected = truth.expected[table][season]
        units = truth.units[table][season]
        present = {u for u in expected if u in units and complete(table, units[u])}
        incomplete = {u for u in expected if u in units} - present
        missing = expected - set(units)
        keys = truth.keys[table][season]
        dups = sum(n - 1 for n in keys.values() if n > 1)
        want = [
            truth.rows[table][season],
            len(units),
            len(expected),
            len(present),
            len(incomplete),
            len(missing),
            0,  # verified empty: nothing was fetched yet
            0,  # waived
            0,  # quarantined
            dups,
        ]
        cells = rows[season]
        assert [num(c) for c in cells[:10]] == want, (table, season)
        ratio = len(present) / len(expected) if expected else 1.0
        assert cells[10].endswith(f"{100 * ratio:.2f}%"), (table, season)
        if present != expected:
            gap = re.search(rf"^- \*\*{season}\*\* \(([\d.]+)%\): (.*)$", report.split(f"## {table} vs", 1)[1], re.M)
            assert gap is not None and gap.group(1) == f"{100 * ratio:.1f}", (table, season)
            assert f"{len(missing):,} missing" in gap.group(2)


def test_gaps_are_listed_worst_first_with_ranges(audited: tuple[str, Truth, str]) -> None:
    report, truth, _ = audited
    plays = report.split("## fct_plays vs fct_games", 1)[1].split("\n## ", 1)[0]
    lines = re.findall(r"^- \*\*(\d{4})\*\* \(([\d.]+)%\): .*: (.+)$", plays, re.M)
    ratios = [float(r) for _, r, _ in lines]
    assert ratios == sorted(ratios) and len(lines) >= 10
    worst_season = int(lines[0][0])
    missing = truth.expected["fct_plays"][worst_season] - set(truth.units["fct_plays"][worst_season])
    first, last = min(missing, key=int), max(missing, key=int)
    assert lines[0][2].startswith(first) and last in lines[0][2]  # compressed ranges span the gap


def test_provenance_and_findings(audited: tuple[str, Truth, str]) -> None:
    report, _, stdout = audited
    assert re.search(r"\| command \| `reconcile audit .*--seasons 2010-2026 .*` \|", report) or (
        "| command | `reconcile audit` |" in report
    )
    assert "| profile | `local` (query engine duckdb) |" in report
    assert re.search(r"\| plan \| id `\w{16}` · fingerprint `\w{16}` \|", report)
    assert re.search(r"\| observed at \| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \|", report)
    assert "Reproduce with `reconcile audit --config " in report
    assert re.search(r"- `fct_games`: \d+ surplus rows on \(gameId\)", report)
    findings = report.split("## Partition and layout findings", 1)[1]
    assert "The plan proposes " in findings  # the layout target's actions, through the seam
    assert re.search(r"^- relayout 2025: \d+ × silver/fct_games/", findings, re.M)  # the drift's asof= copy
    assert "coverage (season × table)" in stdout and "Wrote " in stdout
