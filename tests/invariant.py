"""The natural-key invariant, checked on any local lake by a full scan of every file.

After any plan → apply, on any lake (written by this tool or the pipeline's way), under any
faults, interruptions and resumes:

1. every natural key of ``fct_plays``, ``fct_substitutions`` and ``fct_lineups`` appears in at
   most one row, as a full scan of every object under the table sees it (any layout, any column
   types); the only exceptions are keys duplicated before the apply that the plan shows as
   ``dedupe`` (or ``relayout``) work;
2. no row that was in the lake is lost (every key present before is present after);
3. no unit is in two actions, save a unit filled jointly (``match: all``), which is in exactly
   one action per part, each for a different request;
4. per fan-out target and season, planned API calls ≤ units to fill.

Deliberately independent of the product's code (its own file walk, its own parsing of the
nested ``subIn`` text with ``json``/``ast``), so that a bug there cannot hide here. Used by the
tests (``tests/test_invariant_property.py``, ``tests/test_gap_fill.py``) and the bench.
"""

from __future__ import annotations

import ast
import json
import os
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

__all__ = ["FANOUT_TABLES", "LakeKeys", "check_apply", "check_plan", "lake_keys"]

#: Fan-out tables and how their natural key is read.
FANOUT_TABLES: dict[str, tuple[str, ...]] = {
    "fct_plays": ("id",),
    "fct_substitutions": ("gameId", "athleteId", "subIn.period", "subIn.secondsRemaining"),
    "fct_lineups": ("gameId", "teamid", "idhash"),
}
FANOUT_TARGETS = {"plays": "fct_plays", "substitutions": "fct_substitutions", "lineups": "fct_lineups"}


def _norm(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, float) and v == int(v):
        return int(v)
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            return v
    return v


def _nested(text: Any, name: str) -> Any:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        value = ast.literal_eval(text)
    return _norm(value.get(name)) if isinstance(value, dict) else None


@dataclass
class LakeKeys:
    """Every natural key of the fan-out tables, with how many rows hold it.

    Attributes:
        keys: Table → key → rows holding it.
        objects: Table → key → objects holding it.
        unreadable: Objects that could not be read (named, never skipped silently).
    """

    keys: dict[str, Counter[tuple[Any, ...]]] = field(default_factory=dict)
    objects: dict[str, dict[tuple[Any, ...], set[str]]] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)

    def duplicated(self, table: str) -> set[tuple[Any, ...]]:
        """Keys held by more than one row."""
        return {k for k, n in self.keys.get(table, Counter()).items() if n > 1}


def lake_keys(lake: Path) -> LakeKeys:
    """Scan every Parquet object under each fan-out table of a local lake.

    Hidden objects (``.``/``_``) and files with no columns are not table data for any reader.

    Args:
        lake: The lake directory (holding ``silver/``).

    Returns:
        The keys.
    """
    out = LakeKeys()
    for table, key in FANOUT_TABLES.items():
        counts: Counter[tuple[Any, ...]] = Counter()
        where: dict[tuple[Any, ...], set[str]] = defaultdict(set)
        root = lake / "silver" / table
        for dirpath, _, names in os.walk(root):
            for name in sorted(names):
                if not name.endswith(".parquet") or name.startswith((".", "_")):
                    continue
                path = Path(dirpath) / name
                rel = str(path.relative_to(lake))
                try:
                    pf = pq.ParquetFile(path)
                    have = set(pf.schema_arrow.names)
                    if not have:
                        continue
                    cols = sorted({k.split(".")[0] for k in key} & have)
                    t = pf.read(columns=cols)
                except Exception:
                    out.unreadable.append(rel)
                    continue
                data = {c: t.column(c).to_pylist() for c in cols}
                for i in range(t.num_rows):
                    parts = []
                    for k in key:
                        col, _, sub = k.partition(".")
                        v = data.get(col, [None] * t.num_rows)[i]
                        parts.append(_nested(v, sub) if sub else _norm(v))
                    kt = tuple(parts)
                    counts[kt] += 1
                    where[kt].add(rel)
        out.keys[table] = counts
        out.objects[table] = where
    return out


def check_plan(plan: Mapping[str, Any]) -> list[str]:
    """Rules 3 and 4 on a plan (its JSON form).

    Args:
        plan: The plan file's content.

    Returns:
        One line per violation (empty: the plan keeps the rules).
    """
    problems = []
    for t in plan.get("targets", []):
        if t["target"] not in FANOUT_TARGETS:
            continue
        holders: dict[str, list[dict[str, Any]]] = defaultdict(list)
        calls: Counter[int] = Counter()
        units: dict[int, set[str]] = defaultdict(set)
        for a in t["actions"]:
            for u in a["units"]:
                holders[u].append(a)
                units[a["season"]].add(u)
            calls[a["season"]] += a.get("api_calls", 0)
        for u, acts in holders.items():
            if len(acts) == 1:
                continue
            joint = all(a.get("details", {}).get("joint") for a in acts)
            same = {a.get("strategy") for a in acts}
            requests = {json.dumps(a.get("request"), sort_keys=True) for a in acts}
            if not (joint and len(same) == 1 and len(requests) == len(acts) == 2):
                problems.append(f"{t['target']}: unit {u} is in {len(acts)} actions: {[a['address'] for a in acts]}")
        for season, n in calls.items():
            if n > len(units[season]):
                problems.append(f"{t['target']}[season={season}]: {n} API calls for {len(units[season])} units to fill")
    return problems


def _rewrites(plan: Mapping[str, Any] | None) -> set[str]:
    if plan is None:
        return set()
    return {
        a["details"]["table"]
        for t in plan.get("targets", [])
        for a in t["actions"]
        if a["type"] in ("dedupe", "relayout") and "table" in a.get("details", {})
    }


def check_apply(before: LakeKeys, after: LakeKeys, plan_after: Mapping[str, Any] | None = None) -> list[str]:
    """Rules 1 and 2: the lake after an apply against the lake before it.

    Args:
        before: Keys before the apply (and the plan it ran).
        after: Keys after the apply (and any resumes).
        plan_after: The next plan, which must show any duplicates left as dedupe/relayout work.

    Returns:
        One line per violation (empty: the invariant holds).
    """
    problems = [f"unreadable object: {k}" for k in after.unreadable]
    shown = _rewrites(plan_after)
    for table in FANOUT_TABLES:
        was = before.keys.get(table, Counter())
        now = after.keys.get(table, Counter())
        lost = [k for k in was if k not in now]
        if lost:
            problems.append(f"{table}: {len(lost)} keys lost, e.g. {lost[0]}")
        new_dups = [k for k in after.duplicated(table) if k not in before.duplicated(table)]
        if new_dups:
            k = new_dups[0]
            problems.append(
                f"{table}: {len(new_dups)} keys in two rows that were not before, e.g. {k} in "
                f"{sorted(after.objects[table][k])}"
            )
        old_dups = after.duplicated(table) & before.duplicated(table)
        if old_dups and plan_after is not None and table not in shown:
            problems.append(f"{table}: {len(old_dups)} duplicated keys left that the next plan does not show")
    return problems
