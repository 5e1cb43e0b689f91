"""The gap query: the engine joins a spec's expected units with its table's present units.

One Athena-dialect query per target returns, instead of every expected and every present
unit, only what the plan needs:

* per season, the expected units (the source query's rows of the selected seasons, one per
  unit key, the first by season and date) and how many of them are complete in the table;
* the sum and count of rows of the table's complete units (the planner's rows-per-unit mean);
* every expected unit that is not complete (missing, or present but incomplete), with every
  column of its source row, its rows in the table (NULL when absent) and completeness;
* for each API strategy whose request can serve several units, how many expected units of the
  unit's season each of its requests touches (the planner's rows estimate, which breaks ties
  between requests).

Two more kinds of column ride on the gap's rows, so that they need no query of their own:

* for each bronze strategy it is given (``bronze``), whether bronze holds the unit completely
  (the strategy's own unit columns and completeness expression): the lake as a source;
* for each derivation input it is given (``inputs``), the input table's rows and completeness of
  the input unit the gap unit names (a lineups unit ``game:team`` names the plays unit ``game``):
  whether the input is ready.

Both read the selected seasons' folders (with the spill of :func:`season_filter`), as the gap's
own present units do.

So rows crossing into Python are the gap plus one per season. Unit keys are compared as text,
exactly as observation in Python does (``CAST(x AS varchar)``, a NULL part as ``None``); that is
exact for integer and text unit columns, and :func:`gap_result` refuses any other type (the
observer then reads the two sides whole, as before).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.core.empties import SetDigest, key_hash_sql
from reconciler.core.observed import ExpectedUnit, PresentUnit
from reconciler.core.requests import is_per_unit
from reconciler.observe.queries import coverage_query, quote_ident
from reconciler.spec.models import FetchStrategy, Spec
from reconciler.sql import sql_literal

__all__ = ["GapResult", "gap_query", "gap_result", "input_key", "key_expr", "keys_filter", "touch_strategies"]

Params = tuple[tuple[str, Any], ...]

_PREFIX = "rc_"

#: Per season, the key-set digest (:class:`reconciler.core.empties.SetDigest`) of the units that
#: are not complete, for the fingerprints: listed or counted as verified empty, they are digested
#: alike, and Python need not hash the listed keys.
_GAP_SUMS = "\n".join(
    f"         sum(CASE WHEN rc_ok THEN 0 ELSE {key_hash_sql('rc_key', i)} END) AS rc_gh{i + 1}"
    + ("," if i == 0 else "")
    for i in range(2)
)


def key_expr(columns: Sequence[str], qualifier: str = "") -> str:
    """A unit's text key in SQL, as Python observation writes it (``1234`` or ``1234:72``).

    Args:
        columns: The unit's columns, in key order.
        qualifier: A table alias to qualify the columns with (``e``), or none.

    Returns:
        The expression (a NULL part reads ``None``, as ``str(None)`` does).
    """
    q = f"{qualifier}." if qualifier else ""
    parts = [f"COALESCE(CAST({q}{quote_ident(c)} AS varchar), 'None')" for c in columns]
    return " || ':' || ".join(parts)


def keys_filter(columns: Sequence[str], keys: Sequence[str]) -> str:
    """A condition keeping the rows of some units: a semi-join on a ``VALUES`` list.

    Engines hash the list once; a long ``IN (...)`` list is tested row by row.

    Args:
        columns: The unit's columns.
        keys: The unit keys (``1234`` or ``1234:72``).

    Returns:
        The condition.
    """
    listed = ", ".join(f"({sql_literal('key', k)})" for k in sorted(set(keys)))
    return f"{key_expr(columns)} IN (SELECT k FROM (VALUES {listed}) AS wanted(k))"


def touch_strategies(spec: Spec) -> list[FetchStrategy]:
    """The strategies whose requests' rows the planner estimates from the units they touch.

    Args:
        spec: The spec.

    Returns:
        API strategies, not aggregated, whose request is not one unit's, in spec order.
    """
    return [s for s in spec.fetch if s.source == "api" and not s.aggregated and not is_per_unit(spec, s)]


def _alternatives(strategy: FetchStrategy) -> list[list[tuple[str, str]]]:
    """Each alternative request shape as (parameter, source column) pairs, parameters sorted.

    A strategy has at most one list-valued parameter (validated); each of its columns is one
    alternative, the other parameters fixed.
    """
    cols = strategy.param_columns()
    names = sorted(cols)
    multi = next((n for n in names if len(cols[n]) > 1), None)
    if multi is None:
        return [[(n, cols[n][0]) for n in names]]
    return [[(n, c if n == multi else cols[n][0]) for n in names] for c in cols[multi]]


def _touch_cte(j: int, strategy: FetchStrategy) -> str:
    alts = _alternatives(strategy)
    n = len(alts[0])
    branches = []
    for alt in alts:
        cols = ", ".join(f"{quote_ident(c)} AS p{i}" for i, (_, c) in enumerate(alt))
        branches.append(f"SELECT {_PREFIX}season AS t_season, {cols} FROM e")
    union = "\n    UNION ALL\n    ".join(branches)
    group = ", ".join(str(i + 1) for i in range(n + 1))
    ps = ", ".join(f"p{i}" for i in range(n))
    return f"t{j} AS (\n  SELECT t_season, {ps}, count(*) AS t_n FROM (\n    {union}\n  ) AS a\n  GROUP BY {group}\n)"


def gap_query(
    spec: Spec,
    seasons: Sequence[int],
    *,
    database: str,
    table: str,
    bronze: Mapping[str, str] | None = None,
    inputs: Sequence[Spec] = (),
    empties: Mapping[int, tuple[SetDigest, str | None]] | None = None,
) -> str:
    """The gap query of a spec (see the module docstring).

    Args:
        spec: The spec (its source query, unit, completeness rule and strategies).
        seasons: The selected seasons (the source's rows of other seasons are left out).
        database: The silver database.
        table: The silver table.
        bronze: Bronze strategy name → its bronze database (strategies of ``spec`` whose table
            has files); each gets a column saying whether bronze holds the unit completely.
        inputs: Derivation inputs' specs (whose silver tables have files); each gets the input
            unit's rows and completeness.
        empties: Season → the digest of the target's ``empty`` records and the latest game date
            they are all fresh for (None: any), from :func:`reconciler.core.empties.pushdown_seasons`.
            A season whose units absent from the table have exactly that digest, and no later
            date, has them counted in ``rc_vempty``, not listed (see :mod:`reconciler.core.empties`).

    Returns:
        Athena SQL with ``:season_start``/``:season_end`` placeholders. Columns: ``rc_rows_sum``,
        ``rc_rows_units``, ``rc_cseason``, ``rc_expected``, ``rc_present`` (and ``rc_vempty`` with
        ``empties``), then the gap unit's
        source columns with ``rc_key``, ``rc_season``, ``rc_date``, ``rc_rn``, ``rc_n``,
        ``rc_ok``, then ``rc_t<j>_<i>`` per touch strategy ``j`` and alternative ``i``, then
        ``rc_b<j>`` per bronze strategy (in ``bronze``'s order) and ``rc_i<k>_n``, ``rc_i<k>_ok``
        per input.
    """
    ctes = _base_ctes(spec, seasons, database, table)
    lacking = "rc_ok IS NULL OR NOT rc_ok"
    if empties:
        ctes += _empty_ctes(empties)
        ctes += [
            "c AS (SELECT k.*, v.v_n AS rc_vempty FROM k LEFT JOIN v ON v.v_season = k.rc_cseason)",
            f"g AS (\n  SELECT * FROM j WHERE ({lacking})\n"
            "  AND NOT (rc_n IS NULL AND rc_season IN (SELECT v_season FROM v))\n)",
        ]
    else:
        ctes += ["c AS (SELECT * FROM k)", f"g AS (SELECT * FROM j WHERE {lacking})"]
    more, joins, cols = _side_columns(spec, bronze or {}, inputs)
    ctes += more
    select = ", ".join(["m.*", "c.*", "g.*", *cols])
    return (
        "WITH "
        + ",\n".join(ctes)
        + f"\nSELECT {select}\nFROM m\nLEFT JOIN c ON TRUE\nLEFT JOIN g ON g.rc_season = c.rc_cseason\n"
        + "".join(f"{x}\n" for x in joins)
    ).rstrip("\n")


def _base_ctes(spec: Spec, seasons: Sequence[int], database: str, table: str) -> list[str]:
    """The gap query's expected units (``e``), present units (``p``), their join and per-season counts."""
    silver = spec.target.silver
    comp = spec.expect.complete
    source = spec.source.query.strip().rstrip(";").strip()
    present = coverage_query(database, table, silver.unit_columns, min_rows=comp.min_rows, expression=comp.expression)
    pkey = key_expr([f"u{i}" for i in range(len(silver.unit_columns))])
    season_list = ", ".join(str(int(s)) for s in sorted(set(seasons)))
    season = 'TRY_CAST("season" AS bigint)'
    ctes = [
        f"src AS (\n{source}\n)",
        f"s AS (\n  SELECT src.*, {key_expr(spec.unit)} AS rc_key, {season} AS rc_season,\n"
        f'         substr(CAST("date" AS varchar), 1, 10) AS rc_date\n'
        f"  FROM src\n  WHERE {season} IN ({season_list})\n)",
        "e AS (\n  SELECT * FROM (\n"
        "    SELECT s.*, row_number() OVER (PARTITION BY rc_key ORDER BY rc_season, rc_date) AS rc_rn FROM s\n"
        "  ) AS r\n  WHERE rc_rn = 1\n)",
        f"p AS (\n  SELECT {pkey} AS rc_pkey, n AS rc_n, ok AS rc_ok FROM (\n{present}\n  ) AS c\n)",
        "j AS (\n  SELECT e.*, p.rc_n, p.rc_ok FROM e LEFT JOIN p ON p.rc_pkey = e.rc_key\n)",
        "k AS (\n  SELECT rc_season AS rc_cseason, count(*) AS rc_expected,\n"
        f"         sum(CASE WHEN rc_ok THEN 1 ELSE 0 END) AS rc_present,\n{_GAP_SUMS}\n"
        "  FROM j\n  GROUP BY rc_season\n)",
        "m AS (SELECT sum(rc_n) AS rc_rows_sum, count(*) AS rc_rows_units FROM p WHERE rc_ok)",
    ]
    return ctes


def _side_columns(
    spec: Spec, bronze: Mapping[str, str], inputs: Sequence[Spec]
) -> tuple[list[str], list[str], list[str]]:
    """The CTEs, joins and columns riding on the gap's rows: touch counts, bronze and input readiness."""
    silver, comp = spec.target.silver, spec.expect.complete
    touch = touch_strategies(spec)
    ctes: list[str] = []
    joins: list[str] = []
    cols: list[str] = []
    for j, strategy in enumerate(touch):
        ctes.append(_touch_cte(j, strategy))
        for i, alt in enumerate(_alternatives(strategy)):
            alias = f"t{j}_{i}"
            on = " AND ".join(
                [f"{alias}.t_season = g.rc_season"]
                + [f"{alias}.p{k} = g.{quote_ident(c)}" for k, (_, c) in enumerate(alt)]
            )
            joins.append(f"LEFT JOIN t{j} AS {alias} ON {on}")
            cols.append(f"{alias}.t_n AS {_PREFIX}t{j}_{i}")
    for j, (name, bronze_db) in enumerate(bronze.items()):
        strat = next(f for f in spec.fetch if f.name == name)
        ucols = strat.unit_columns or silver.unit_columns
        cov = coverage_query(
            bronze_db, str(strat.bronze), ucols, min_rows=comp.min_rows, expression=strat.complete_expression
        )
        bkey = key_expr([f"u{i}" for i in range(len(ucols))])
        ctes.append(f"b{j} AS (\n  SELECT {bkey} AS rc_bkey, ok AS rc_bok FROM (\n{cov}\n  ) AS c\n)")
        joins.append(f"LEFT JOIN b{j} ON b{j}.rc_bkey = g.rc_key")
        cols.append(f"b{j}.rc_bok AS {_PREFIX}b{j}")
    for k, ispec in enumerate(inputs):
        isilver, icomp = ispec.target.silver, ispec.expect.complete
        cov = coverage_query(
            isilver.database, isilver.table, isilver.unit_columns, min_rows=icomp.min_rows, expression=icomp.expression
        )
        ikey = key_expr([f"u{i}" for i in range(len(isilver.unit_columns))])
        ctes.append(f"i{k} AS (\n  SELECT {ikey} AS rc_ikey, n AS rc_in, ok AS rc_iok FROM (\n{cov}\n  ) AS c\n)")
        joins.append(f"LEFT JOIN i{k} ON i{k}.rc_ikey = {key_expr(ispec.unit, 'g')}")
        cols += [f"i{k}.rc_in AS {_PREFIX}i{k}_n", f"i{k}.rc_iok AS {_PREFIX}i{k}_ok"]
    return ctes, joins, cols


def _empty_ctes(empties: Mapping[int, tuple[SetDigest, str | None]]) -> list[str]:
    """The CTEs naming the seasons whose absent units are counted as verified empty (``v``)."""
    rows = ", ".join(
        f"({int(season)}, {d.n}, {d.h1}, {d.h2}, "
        + (f"CAST({sql_literal('until', until)} AS varchar)" if until is not None else "CAST(NULL AS varchar)")
        + ")"
        for season, (d, until) in sorted(empties.items())
    )
    h1, h2 = key_hash_sql("rc_key", 0), key_hash_sql("rc_key", 1)
    return [
        f"z AS (\n  SELECT * FROM (VALUES {rows}) AS zz(z_season, z_n, z_h1, z_h2, z_until)\n)",
        # The units absent from the table (no row at all), per season, in aggregate.
        "a AS (\n  SELECT rc_season AS a_season, count(*) AS a_n, sum(h1) AS a_h1, sum(h2) AS a_h2,\n"
        "         max(rc_date) AS a_max,\n"
        # A date the planner could not read as YYYY-MM-DD is never fresh by date: such a season is listed.
        "         sum(CASE WHEN rc_date IS NULL OR NOT regexp_like(rc_date, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')\n"
        "                   OR TRY_CAST(rc_date AS date) IS NULL\n"
        "             THEN 1 ELSE 0 END) AS a_nodate\n"
        f"  FROM (SELECT rc_season, rc_date, {h1} AS h1, {h2} AS h2 FROM j WHERE rc_n IS NULL) AS x\n"
        "  GROUP BY rc_season\n)",
        # Seasons whose absent units are exactly their fresh empty records.
        "v AS (\n  SELECT a_season AS v_season, a_n AS v_n FROM a JOIN z ON z_season = a_season\n"
        "  WHERE a_n = z_n AND a_h1 = z_h1 AND a_h2 = z_h2 AND a_nodate = 0\n"
        "    AND (z_until IS NULL OR a_max <= z_until)\n)",
    ]


@dataclass(frozen=True, slots=True)
class GapResult:
    """What the gap query returned, as the planner reads it.

    Attributes:
        units: The expected units that are not complete, ordered by season, date and key.
        present: The present (incomplete) ones among them, by key.
        counts: Season → (expected units, complete units).
        rows_mean: Mean rows of the table's complete units (None when none is complete).
        touch: Season → strategy name → request parameters → expected units it touches (only
            the requests of the gap's units).
        rows: Rows the query returned.
        lake: Bronze strategy name → the gap's units bronze holds completely (the strategies
            the query was given).
        inputs: Input target name → its units the gap's units name, with their rows and
            completeness (those present; the inputs the query was given and whose unit columns
            are integer or text in the result).
        empty: Season → its absent units counted as verified empty, not listed.
        digests: Season → the key-set digest of its units that are not complete (listed or not).
    """

    units: tuple[ExpectedUnit, ...]
    present: Mapping[str, PresentUnit]
    counts: Mapping[int, tuple[int, int]]
    rows_mean: float | None
    touch: Mapping[int, Mapping[str, Counter[Params]]] = field(default_factory=dict)
    rows: int = 0
    lake: Mapping[str, frozenset[str]] = field(default_factory=dict)
    inputs: Mapping[str, Mapping[str, PresentUnit]] = field(default_factory=dict)
    empty: Mapping[int, int] = field(default_factory=dict)
    digests: Mapping[int, SetDigest] = field(default_factory=dict)


def _key_type_ok(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t)) or pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)


def input_key(ispec: Spec, unit: ExpectedUnit) -> str | None:
    """The key of the input unit a derived unit names (None when its source row lacks a column).

    Args:
        ispec: The input's spec.
        unit: The derived unit.

    Returns:
        The input unit's key, as the planner forms it.
    """
    try:
        return ":".join([str(unit.cols[c]) for c in ispec.unit])
    except KeyError:
        return None


def _text_keys(table: pa.Table, columns: Sequence[str]) -> list[str]:
    """Each row's key as :func:`input_key` forms it in Python (``str`` of each value, ``:``-joined).

    Only for integer and text columns (a null reads ``None``, as ``str(None)`` does).
    """
    parts = [pc.fill_null(pc.cast(table.column(c), pa.string()), "None") for c in columns]
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, ":")
    keys: list[str] = joined.to_pylist()
    return keys


def _touch_counts(spec: Spec, gap: pa.Table, seasons: Sequence[int]) -> dict[int, dict[str, Counter[Params]]]:
    """Per season and touch strategy, the expected units each request of a gap unit touches.

    A request is one alternative of the strategy (its parameters sorted, as
    :func:`reconciler.core.requests.request_index` forms them) whose values are all known for a
    gap unit, with the count the query joined to it; the distinct rows are read, not every unit's.
    """
    touch: dict[int, dict[str, Counter[Params]]] = {}
    names = set(gap.column_names)
    for j, strategy in enumerate(touch_strategies(spec)):
        for season in seasons:
            touch.setdefault(season, {}).setdefault(strategy.name, Counter())
        for i, alt in enumerate(_alternatives(strategy)):
            count = f"{_PREFIX}t{j}_{i}"
            if any(c not in names for _, c in alt):
                continue  # a column the source lacks: no unit has a value for it, so no request
            cols = ["rc_season", *dict.fromkeys(c for _, c in alt), count]
            sub = gap.select(cols)
            valid = pc.and_(pc.is_valid(sub.column(count)), pc.is_valid(sub.column("rc_season")))
            for _, c in alt:
                valid = pc.and_(valid, pc.is_valid(sub.column(c)))
            for row in sub.filter(valid).group_by(cols).aggregate([]).to_pylist():
                params = tuple((p, row[c]) for p, c in alt)
                touch[int(row["rc_season"])][strategy.name][params] = int(row[count])
    return touch


def gap_result(
    spec: Spec,
    table: pa.Table,
    bronze: Sequence[str] = (),
    inputs: Sequence[Spec] = (),
) -> GapResult | None:
    """Read the gap query's rows.

    Args:
        spec: The spec the query was built from.
        table: Its result.
        bronze: The bronze strategy names the query was given, in its order.
        inputs: The input specs the query was given, in its order.

    Returns:
        The result, or None when a unit column is neither integer nor text (its key in SQL could
        differ from the key Python gives it, so the caller reads the sides whole).
    """
    names = table.column_names
    if any(c not in names or not _key_type_ok(table.schema.field(c).type) for c in spec.unit):
        return None
    counts: dict[int, tuple[int, int]] = {}
    rows_mean: float | None = None
    empty: dict[int, int] = {}
    digests: dict[int, SetDigest] = {}
    heads = ["rc_rows_sum", "rc_rows_units", "rc_cseason", "rc_expected", "rc_present", "rc_gh1", "rc_gh2"]
    heads += ["rc_vempty"] if "rc_vempty" in names else []
    for r in table.select(heads).to_pylist():
        if r["rc_rows_units"]:
            rows_mean = int(r["rc_rows_sum"]) / int(r["rc_rows_units"])
        if r["rc_cseason"] is not None:
            season, n, ok = int(r["rc_cseason"]), int(r["rc_expected"]), int(r["rc_present"] or 0)
            counts[season] = (n, ok)
            digests[season] = SetDigest(n - ok, int(r["rc_gh1"] or 0), int(r["rc_gh2"] or 0))
            if r.get("rc_vempty"):
                empty[season] = int(r["rc_vempty"])
    gap = table.filter(pc.is_valid(table.column("rc_key")))
    source_cols = [n for n in names if not n.startswith(_PREFIX)]
    keys = [str(k) for k in gap.column("rc_key").to_pylist()]
    seasons = [int(x) for x in gap.column("rc_season").to_pylist()]
    rows_n = gap.column("rc_n").to_pylist()
    oks = gap.column("rc_ok").to_pylist()
    units = [
        ExpectedUnit(key=k, season=season, date=str(cols["date"])[:10], cols=cols)
        for k, season, cols in zip(keys, seasons, gap.select(source_cols).to_pylist(), strict=True)
    ]
    present = {k: PresentUnit(int(n), bool(ok)) for k, n, ok in zip(keys, rows_n, oks, strict=True) if n is not None}
    touch = _touch_counts(spec, gap, sorted(set(seasons)))
    lake = {
        name: frozenset(u.key for u, ok in zip(units, gap.column(f"{_PREFIX}b{j}").to_pylist(), strict=True) if ok)
        for j, name in enumerate(bronze)
    }
    found: dict[str, dict[str, PresentUnit]] = {}
    for k, ispec in enumerate(inputs):
        # The planner forms an input's key in Python (str of each value): exact for these types only.
        if not all(c in names and _key_type_ok(table.schema.field(c).type) for c in ispec.unit):
            continue
        ready = gap.filter(pc.is_valid(gap.column(f"{_PREFIX}i{k}_n")))
        ikeys = _text_keys(ready, ispec.unit)
        ns, oks = ready.column(f"{_PREFIX}i{k}_n").to_pylist(), ready.column(f"{_PREFIX}i{k}_ok").to_pylist()
        found[ispec.name] = {key: PresentUnit(int(n), bool(ok)) for key, n, ok in zip(ikeys, ns, oks, strict=True)}
    units.sort(key=lambda u: (u.season, u.date, u.key))
    return GapResult(tuple(units), present, counts, rows_mean, touch, table.num_rows, lake, found, empty, digests)
