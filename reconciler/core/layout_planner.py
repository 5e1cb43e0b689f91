"""The layout planner: a pure function of the layout observation → the ``layout`` target's plan.

Per table the specs name (bronze and silver), it plans:

* ``relayout`` for every live object outside the declared layout (rows are split by the
  canonical partition), or whose unit or key columns Athena cannot read as the table declares
  them (rewritten to the declared schema). Other type drift breaks no coverage or key query, and
  the pipeline's readers unify it: it is reported in the notes, not rewritten;
* ``dedupe`` for every object in the declared layout holding a natural key that a newer object,
  in any layout, also holds (or that it repeats itself): it is rewritten without those rows.
  Across relayouts and dedupes each key is kept once, the newest object's row winning;
* ``register`` for partitions in storage that the catalog lacks, and a fix of the catalog
  table's partition keys when they differ from the declared layout;
* ``delete`` for orphan or misplaced catalog partitions, objects with no columns, and originals
  an interrupted rewrite left behind.

A relayout or dedupe writes its new copy and removes the original in one step, so it runs only
with ``--allow-delete``: without it the plan shows it and apply does not start it, and readers
that scan every file never see two copies. Deletes likewise run only with ``--allow-delete``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.core.layout_observed import (
    FileObs,
    LayoutObservation,
    TableDecl,
    TableObs,
    breaking_drift,
    in_declared_layout,
    misplaced,
    partition_path,
    table_types,
    tolerated_drift,
)
from reconciler.core.layout_rekey import path_values, rekey_action
from reconciler.core.plan import Action, TargetPlan
from reconciler.core.planner import glob_match

__all__ = ["LAYOUT_TARGET", "PARTITIONS_TARGET", "layout_selected", "plan_layout"]

LAYOUT_TARGET = "layout"
#: ``--target partitions``: only the catalog's part of the layout target.
PARTITIONS_TARGET = "partitions"
_CATALOG_OPS = frozenset({"partition", "table"})
_MSCK_WHY = "MSCK only adds partitions, only understands key=value paths and can time out on many prefixes"


def layout_selected(selectors: Sequence[str]) -> bool:
    """Whether ``--target`` values select the layout target (no values select everything).

    Args:
        selectors: The ``--target`` values.

    Returns:
        True when the layout target is wanted.
    """
    if not selectors:
        return True
    return any(s.split("[", 1)[0].split(".", 1)[0] in (LAYOUT_TARGET, PARTITIONS_TARGET) for s in selectors)


def _wanted(a: Action, selectors: Sequence[str]) -> bool:
    if not selectors or LAYOUT_TARGET in selectors:
        return True
    if PARTITIONS_TARGET in selectors and a.details.get("op") in _CATALOG_OPS:
        return True
    return any(glob_match(a.address, s) or glob_match(a.address, s + "*") for s in selectors)


def _season(values: Sequence[tuple[str, str]]) -> int | None:
    v = dict(values).get("season", "")
    return int(v) if v.isdigit() else None


def _obj(f: FileObs) -> dict[str, Any]:
    return {"key": f.key, "size": f.size, "mtime": f.mtime, "rows": f.rows}


def _sig(keys: Sequence[str]) -> str:
    return "/".join(f"{k}=" for k in keys) or "(table root)"


def _table_details(d: TableDecl) -> dict[str, Any]:
    return {
        "layer": d.layer,
        "database": d.database,
        "table": d.table,
        "layout": d.layout,
        "key": list(d.key),
        "dedupe": d.dedupe,
    }


@dataclass
class _TablePlan:
    rewrites: list[Action] = field(default_factory=list)
    registers: list[Action] = field(default_factory=list)
    deletes: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_ONE_STEP = (
    "the new copy is written and the original removed in one step, run only with --allow-delete "
    "(never two visible copies)"
)


def _losses(t: TableObs, live: list[FileObs]) -> dict[str, dict[str, int]]:
    """For each object, the newer objects holding some of its natural keys (newest row wins)."""
    by_key = {f.key: f for f in live}
    order = {f.key: (f.mtime, f.key) for f in live}
    newer: dict[str, dict[str, int]] = defaultdict(dict)
    for o in t.overlaps:
        if o.a not in by_key or o.b not in by_key or o.keys <= 0:
            continue
        old, new = (o.a, o.b) if order[o.a] < order[o.b] else (o.b, o.a)
        newer[old][new] = newer[old].get(new, 0) + o.keys
    return newer


def _drift_note(d: TableDecl, tolerated: dict[str, int]) -> str:
    cols = ", ".join(f"{c} in {n:,} object{'s' if n != 1 else ''}" for c, n in sorted(tolerated.items())[:6])
    more = f" and {len(tolerated) - 6} more" if len(tolerated) > 6 else ""
    return (
        f"{d.prefix}: column types differ from the table's ({cols}{more}); the pipeline's readers, DuckDB and "
        "this tool unify them (numeric mixes → double, others → string) and Athena fails only queries that "
        "select those columns: reported, not rewritten"
    )


def _rewrite_actions(t: TableObs, live: list[FileObs], out: _TablePlan) -> None:
    d = t.decl
    types = table_types(d, t.catalog)
    losses = _losses(t, live) if d.dedupe else {}
    by_key = {f.key: f for f in live}
    tolerated: dict[str, int] = defaultdict(int)
    # A table's objects share a few schemas: each schema's drift is worked out once.
    schemas: dict[tuple[tuple[str, str], ...], tuple[list[str], list[str]]] = {}
    for f in live:
        if not f.columns:
            empty = f"a Parquet object with no columns ({f.rows:,} rows and no data): DuckDB cannot read it"
            out.deletes.append(_object_delete(f, empty, "empty object", empty=True))
            continue
        known = schemas.get(f.columns)
        if known is None:
            known = schemas[f.columns] = (tolerated_drift(d, f, types), breaking_drift(d, f, types))
        for c in known[0]:
            tolerated[c.split(" ", 1)[0]] += 1
        canonical = in_declared_layout(d, f)
        drift = list(known[1])
        wins = sorted(losses.get(f.key, {}).items())
        internal = int(t.internal.get(f.key, 0)) if d.dedupe else 0
        if canonical and not drift and not wins and not internal:
            continue
        why = []
        if not canonical:
            wrong = misplaced(d, f)
            why.append(
                wrong or f"layout {_sig([k for k, _ in f.partition])} is not the declared {_sig(d.partition_keys)}"
            )
        if drift:
            why.append("breaks a reader: " + ", ".join(drift))
        if wins:
            parts = [f"{n:,} keys also in newer {k}" for k, n in wins[:2]]
            if len(wins) > 2:
                parts.append(f"… and {len(wins) - 2} more newer objects")
            why.append(f"duplicate {', '.join(d.key)}: " + "; ".join(parts))
        if internal:
            why.append(f"{internal:,} rows repeating a key within the object")
        relayout = not canonical or bool(drift)
        if not canonical:
            how = f"rows are split by {', '.join(d.partition_keys)}"
        elif drift:
            how = "rewritten to the declared schema"
        else:
            how = "rewritten without those rows"
        if d.dedupe:
            how += ", each key kept once, the newest object's row winning"
        kind = (
            f"{d.prefix}: {_sig([k for k, _ in f.partition])} → {_sig(d.partition_keys)}"
            if not canonical
            else f"{d.prefix}: column types break a reader"
            if drift
            else f"{d.prefix}: duplicate {', '.join(d.key)}"
        )
        op = "relayout" if relayout else "dedupe"
        out.rewrites.append(
            Action(
                type=op,
                address=f"{LAYOUT_TARGET}.{op}[{f.key}]",
                target=LAYOUT_TARGET,
                season=_season(f.partition),
                est_rows=f.rows,
                reason=f"{f.rows:,} rows: {'; '.join(why)}; {how}; {_ONE_STEP}",
                details={
                    "op": op,
                    "kind": kind,
                    **_table_details(d),
                    "object": _obj(f),
                    "canonical": canonical,
                    "drift": drift,
                    "newer": [_obj(by_key[k]) | {"keys": n} for k, n in wins],
                    "internal": internal,
                    "needs_delete": True,
                },
            )
        )
    if tolerated:
        out.notes.append(_drift_note(d, tolerated))


def _object_delete(f: FileObs, reason: str, kind: str, **extra: Any) -> Action:
    """The ``delete`` action of one object (run only with ``--allow-delete``)."""
    return Action(
        type="delete",
        address=f"{LAYOUT_TARGET}.delete[{f.key}]",
        target=LAYOUT_TARGET,
        season=_season(f.partition),
        reason=reason,
        details={"op": "object", "kind": kind, "object": _obj(f), "after": "", **extra},
    )


QUARANTINE_PREFIX = "quarantine/"


def _quarantine(f: FileObs) -> Action:
    """An object no reader can read: moved out of the table (its bytes kept), with --allow-delete."""
    dest = QUARANTINE_PREFIX + f.key
    why = (
        f"not readable Parquet ({f.unreadable}): Athena and the pipeline's readers fail on it (this tool "
        f"leaves it out of every query); moved to {dest}, its bytes kept, run only with --allow-delete"
    )
    return _object_delete(f, why, "unreadable object", quarantine=dest)


def _object_deletes(pending: list[FileObs], out: _TablePlan) -> None:
    for f in pending:
        copies = ", ".join(f.replacements[:3]) or "none needed: every row is already held elsewhere"
        why = f"superseded by {f.superseded_by} (its removal did not complete); replacement: {copies}"
        out.deletes.append(_object_delete(f, why, "superseded object"))


def _catalog_actions(t: TableObs, live: list[FileObs], pending: list[FileObs], obs: LayoutObservation) -> _TablePlan:
    d, cat, out = t.decl, t.catalog, _TablePlan()
    keys = d.partition_keys
    # An object with no columns holds no data (it is deleted): it keeps no partition registered.
    live_parts = {f.partition_dir: f.partition for f in live if in_declared_layout(d, f) and f.columns}
    if cat is None:
        if live_parts:
            out.notes.append(f"{d.qualified} is not in the catalog: Athena cannot read it; nothing registered")
        return out
    have = tuple(k for k, _ in cat.partition_keys)
    occupied = _occupied(t, live, pending)
    if [k.lower() for k in have] != [k.lower() for k in keys]:
        out.registers.append(rekey_action(t, live, f"{LAYOUT_TARGET}.register[{d.qualified}][partition-keys]"))
        # The key change moves the partitions whose path fits the new keys and drops the rest (its
        # own step): only the moved ones stay registered, under the values their path gives.
        moved = [(path_values(cat.location, p.location, keys), p.location) for p in cat.partitions]
        registered = {v for v, _ in moved if v is not None}
        # A moved partition that holds no data is an orphan under its new keys as under the old:
        # removed after the data work, and kept if that work wrote into it (the handler checks again).
        for now_values, at in moved:
            path = "" if now_values is None else partition_path(dict(zip(keys, now_values, strict=True)))
            if now_values is None or path in live_parts or at.rstrip("/") != f"{d.prefix}{path}":
                continue
            out.deletes.append(_partition_delete(d, now_values, path, at, _orphan_reason(path, occupied)))
        return _registrations(t, live_parts, registered, obs, out)
    registered = {p.values for p in cat.partitions}
    for p in cat.partitions:
        values = dict(zip(keys, p.values, strict=False))
        where = partition_path(values)
        canonical = f"{d.prefix}{where}/"
        location = p.location if p.location.endswith("/") else p.location + "/"
        reregister = ""
        case = "misplaced"
        if len(p.values) != len(keys):
            case = "arity"
            why = f"registered with {len(p.values)} value(s) for the {len(keys)} declared keys ({', '.join(keys)})"
        elif location != canonical:
            why = f"registered at {location}, but data with these values belongs at {canonical}"
            reregister = canonical if where in live_parts else ""
        elif where not in live_parts:
            case = "orphan"
            why = _orphan_reason(where, occupied)
        else:
            continue
        label = "/".join(p.values) if len(p.values) != len(keys) else where
        out.deletes.append(_partition_delete(d, p.values, label, location, why, case=case, reregister=reregister))
    return _registrations(t, live_parts, registered, obs, out)


def _occupied(t: TableObs, live: list[FileObs], pending: list[FileObs]) -> tuple[set[str], set[str], set[str]]:
    """The partition folders holding live, superseded (pending delete) and unreadable objects."""
    unreadable = {f.partition_dir for f in t.files if f.unreadable}
    return {f.partition_dir for f in live}, {f.partition_dir for f in pending}, unreadable


def _orphan_reason(where: str, occupied: tuple[set[str], set[str], set[str]]) -> str:
    """Why a registered partition holding no live data in the declared layout is an orphan."""
    held, pending, unreadable = occupied
    if where in held:
        return (
            "holds only objects outside the declared layout or with no columns: removed from the "
            "catalog once their relayout or deletion (run before it) has emptied it"
        )
    if where in pending:
        return "orphan: only superseded objects (pending delete) remain under its prefix"
    if where in unreadable:
        return "orphan: it holds only objects that are not readable Parquet (quarantined by this plan)"
    return "orphan: its prefix is empty or gone"


def _partition_delete(
    d: TableDecl,
    values: Sequence[str],
    label: str,
    location: str,
    why: str,
    *,
    case: str = "orphan",
    reregister: str = "",
) -> Action:
    """A catalog-only ``delete`` of one registered partition (its data, if any, is not touched)."""
    named = dict(zip(d.partition_keys, values, strict=False))
    return Action(
        type="delete",
        address=f"{LAYOUT_TARGET}.delete[{d.qualified}][{label}]",
        target=LAYOUT_TARGET,
        season=_season(tuple(named.items())),
        reason=f"{why}; removed from the catalog only (no data is touched)",
        details={
            "op": "partition",
            "kind": f"{d.qualified} partition (catalog only)",
            "database": d.database,
            "table": d.table,
            "values": list(values),
            "location": location,
            "reregister": reregister,
            "case": case,
        },
    )


def _registrations(
    t: TableObs,
    live_parts: dict[str, tuple[tuple[str, str], ...]],
    registered: set[tuple[str, ...]],
    obs: LayoutObservation,
    out: _TablePlan,
) -> _TablePlan:
    """Register every partition in storage under the declared layout that the catalog lacks."""
    d = t.decl
    method = "msck" if obs.registration == "msck" and obs.msck_available else "batch"
    for where, part in sorted(live_parts.items()):
        vals = tuple(v for _, v in part)
        if vals in registered:
            continue
        out.registers.append(
            Action(
                type="register",
                address=f"{LAYOUT_TARGET}.register[{d.qualified}][{where}]",
                target=LAYOUT_TARGET,
                season=_season(part),
                reason="in storage, missing from the catalog",
                details={
                    "op": "partition",
                    "kind": f"{d.qualified} partitions",
                    "database": d.database,
                    "table": d.table,
                    "values": list(vals),
                    "location": f"{d.prefix}{where}/",
                    "method": method,
                },
            )
        )
    return out


def _registration_choice(obs: LayoutObservation, registers: list[Action]) -> str:
    parts = [a for a in registers if a.details.get("op") == "partition"]
    if not parts:
        return ""
    tables = sorted({f"{a.details['database']}.{a.details['table']}" for a in parts})
    per_table: dict[str, int] = defaultdict(int)
    for a in parts:
        per_table[f"{a.details['database']}.{a.details['table']}"] += 1
    calls = sum(math.ceil(n / 100) for n in per_table.values())
    what = f"register {len(parts):,} partitions of {len(tables)} tables"
    if obs.registration == "msck" and obs.msck_available:
        return (
            f"{what} with MSCK REPAIR TABLE, one statement per table (catalog.partition_registration: msck); "
            f"{_MSCK_WHY}: orphans are removed by the delete actions, and if it times out switch to batch"
        )
    if obs.registration == "msck":
        return (
            f"{what} with batch create ({calls} calls of ≤100): catalog.partition_registration asks for "
            f"MSCK REPAIR TABLE, which runs in Athena over Glue, and this profile's catalog is {obs.catalog_kind}"
        )
    return (
        f"{what} with BatchCreatePartition ({calls} calls of ≤100; catalog.partition_registration: batch), "
        f"not MSCK REPAIR TABLE: {_MSCK_WHY}"
    )


def plan_layout(obs: LayoutObservation, selectors: Sequence[str] = ()) -> TargetPlan:
    """Plan the ``layout`` target.

    Args:
        obs: The layout observation.
        selectors: ``--target`` values (``layout``, ``partitions``, or address globs); empty: all.

    Returns:
        The target plan: relayout, dedupe, register, then delete actions, table by table.
    """
    rewrites: list[Action] = []
    registers: list[Action] = []
    deletes: list[Action] = []
    notes: list[str] = []
    for t in obs.tables:
        readable = [f for f in t.files if not f.unreadable]
        live = [f for f in readable if not f.superseded_by]
        pending = [f for f in readable if f.superseded_by]
        notes.extend(t.notes)
        tp = _catalog_actions(t, live, pending, obs)
        _rewrite_actions(t, live, tp)
        _object_deletes(pending, tp)
        tp.deletes.extend(_quarantine(f) for f in t.files if f.unreadable)
        rewrites.extend(tp.rewrites)
        registers.extend(sorted(tp.registers, key=lambda a: (a.details["op"] != "table", a.address)))
        # A partition's catalog entry goes after the objects whose deletion empties it.
        deletes.extend(sorted(tp.deletes, key=lambda a: a.details.get("op") == "partition"))
        notes.extend(tp.notes)
    actions = [a for a in [*rewrites, *registers, *deletes] if _wanted(a, selectors)]
    choice = _registration_choice(obs, [a for a in actions if a.type == "register"])
    tables = sorted({t.decl.qualified for t in obs.tables})
    return TargetPlan(
        target=LAYOUT_TARGET,
        table=f"partition layouts of {len(tables)} tables",
        actions=actions,
        choices=[choice] if choice else [],
        notes=notes,
    )
