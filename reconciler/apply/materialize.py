"""Turn API responses (or bronze rows) into raw, bronze and silver objects for one action.

Synchronous and self-contained so the executor can run it in a worker thread. Nothing is
written unless the whole payload converts to the declared schemas: a bad payload never
reaches any layer.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from reconciler.api.payload import iter_json_array, json_array
from reconciler.apply.lakeindex import TableIndex
from reconciler.apply.lakeio import (
    alt_key,
    dedupe_rows,
    filter_units,
    is_ours,
    parse_nested,
    read_parquet_objects,
    write_parquet,
    write_raw,
)
from reconciler.core.observed import ExpectedUnit
from reconciler.core.plan import Action
from reconciler.errors import LakeError, TerminalApiError
from reconciler.lake.keys import key_parts
from reconciler.lake.layout import format_layout, hash8, param_hash, raw_key, table_key
from reconciler.lake.schemas import BRONZE_TABLES, SILVER_TABLES, TableBuilder, records_to_table
from reconciler.lake.writer import RawEncoder
from reconciler.observe.layout_tables import bronze_partition
from reconciler.ports import ObjectStore
from reconciler.spec.models import Spec

__all__ = [
    "Converted",
    "Outcome",
    "Response",
    "convert_response",
    "materialize_fetch",
    "materialize_rebuild",
    "write_silver_rows",
]


@dataclass(frozen=True, slots=True)
class Response:
    """One API response of an action: its records, or its raw body not decoded yet.

    Attributes:
        params: The full call parameters (path parameters included), as hashed for keys.
        records: The records (when ``body`` is None).
        body: The raw JSON array, decoded only when written (a big body is held as bytes).
        packed: Whether ``body`` is zlib-compressed (see :meth:`pack`).
        where: The request (``/path?query``), for contract-error messages.
    """

    params: Mapping[str, Any]
    records: Sequence[Mapping[str, Any]] = ()
    body: bytes | None = None
    where: str = ""
    packed: bool = False

    @classmethod
    def pack(cls, params: Mapping[str, Any], body: bytes, where: str) -> Response:
        """A response held compressed until written (zlib level 1: a day of plays shrinks ~8×).

        Responses wait for the writer while others are written; held as they came, three days
        of plays are 40-60 MB. Compressing costs ~0.1 s of CPU per 20 MB and releases the GIL.

        Args:
            params: The full call parameters.
            body: The raw body as the API sent it.
            where: The request, for messages.

        Returns:
            The response.
        """
        return cls(params=params, body=zlib.compress(body, 1), where=where, packed=True)

    def raw_body(self) -> bytes | None:
        """The body as the API sent it (None when the response holds records)."""
        if self.body is None or not self.packed:
            return self.body
        return zlib.decompress(self.body)

    def decoded(self) -> Sequence[Mapping[str, Any]]:
        """The records, decoding the raw body afresh if there is one.

        Returns:
            The records.

        Raises:
            TerminalApiError: If the raw body is not a JSON array of objects.
        """
        body = self.raw_body()
        return self.records if body is None else json_array(body, self.where)

    def iter_records(self) -> Iterator[Mapping[str, Any]]:
        """The records one at a time, decoding the raw body (if any) element by element.

        Yields:
            The records, in order.

        Raises:
            TerminalApiError: If the raw body is not a JSON array of objects.
        """
        body = self.raw_body()
        if body is None:
            yield from self.records
        else:
            yield from iter_json_array(body, self.where)


@dataclass
class Outcome:
    """What an action wrote.

    Attributes:
        rows_by_unit: Rows written per unit (units absent got nothing).
        objects: Object keys written.
        partitions: Silver partitions written (``season=2015/date=2015-01-03``).
        dropped_existing: Rows skipped because their natural key was already stored.
    """

    rows_by_unit: dict[str, int] = field(default_factory=dict)
    objects: list[str] = field(default_factory=list)
    partitions: set[str] = field(default_factory=set)
    dropped_existing: int = 0


def _ctx(action: Action, units: Mapping[str, ExpectedUnit], params: Mapping[str, Any]) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    if action.season is not None:
        ctx["season"] = action.season
    if "gameId" in params:
        ctx["gameId"] = params["gameId"]
    dates = {u.date for k in action.units if (u := units.get(k)) is not None}
    if len(dates) == 1:
        ctx["date"] = next(iter(dates))
    return ctx


def _unit_keys(table: pa.Table, cols: Sequence[str]) -> list[str]:
    values = [table.column(c).to_pylist() for c in cols]
    return [":".join(str(v[i]) for v in values) for i in range(table.num_rows)]


def write_silver_rows(
    store: ObjectStore,
    spec: Spec,
    action: Action,
    table: pa.Table,
    units: Mapping[str, ExpectedUnit],
    index: TableIndex,
    key_params: Mapping[str, Any],
    out: Outcome,
    whole: Mapping[str, Any] | None = None,
) -> None:
    """Write rows for an action's units to silver, one object per partition, each key once.

    Rows of units outside the action are dropped, and so are rows whose natural key the table
    already holds anywhere (as a full scan of every object under it sees it, including objects
    this apply wrote before): a unit gains only what it lacked, and no key is written twice.

    Object names: where one object holds a whole response (``whole``: its call parameters), it
    is named as the pipeline names it, ``part-<hash8(params)>``, so that the pipeline's own
    re-fetch of the game replaces it instead of doubling it. Otherwise the name carries the unit
    set, so re-running the same action replaces its own object and another action of the same
    request (other units of the same date, say) never does.

    Args:
        store: The object store.
        spec: The target's spec.
        action: The action.
        table: Rows in the silver schema.
        units: Expected units by key (for partitions).
        index: The table as a full scan sees it (held keys; notes what is written).
        key_params: Parameters hashed into the object names.
        out: Accumulates what was written.
        whole: The call parameters when ``table`` is exactly one response's rows.

    Raises:
        LakeError: For a row of a unit that is not expected.
    """
    silver = spec.target.silver
    parts = key_parts(silver.table, silver.key or SILVER_TABLES[silver.table].key)
    wanted = set(action.units)
    n_all = table.num_rows
    table = filter_units(table, silver.unit_columns, wanted)
    keys = _unit_keys(table, silver.unit_columns)
    by_part: dict[str, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        u = units.get(k)
        if u is None:
            raise LakeError(f"{action.address}: row for unknown unit {k}")
        by_part[format_layout(silver.layout, {**u.cols, "season": u.season, "date": u.date})].append(i)
    request = action.address
    one_response = whole is not None and table.num_rows == n_all and len(by_part) == 1
    named = dict(whole or {}) if one_response else {**key_params, "units": param_hash({"units": sorted(wanted)})[:16]}
    for part, idx in sorted(by_part.items()):
        rows = table.take(pa.array(idx, pa.int64()))
        key = table_key("silver", silver.table, part, named)
        part_units = {keys[i] for i in idx}
        mine = {k for k in (key, alt_key(key)) if is_ours(store, k, request)}
        held = index.held({k: units[k] for k in part_units}, mine)
        before = rows.num_rows
        rows = dedupe_rows(rows, parts, held)
        out.dropped_existing += before - rows.num_rows - (len(idx) - len(set(idx)))
        if rows.num_rows == 0:
            continue
        written = write_parquet(store, key, rows, request)
        row_units = _unit_keys(rows, silver.unit_columns)
        index.note_written(written, set(row_units))
        out.objects.append(written)
        out.partitions.add(part)
        for k, n in Counter(row_units).items():
            out.rows_by_unit[k] = out.rows_by_unit.get(k, 0) + n
    # Units whose rows were all already stored still count as filled.
    for k in set(keys) - set(out.rows_by_unit):
        out.rows_by_unit[k] = 0 if k not in index.interest else out.rows_by_unit.get(k, 0)


def _subset(part: pa.Schema, whole: pa.Schema) -> bool:
    """Whether every field of ``part`` is in ``whole`` with the same type."""
    fields = {f.name: f.type for f in whole}
    return all(fields.get(f.name) == f.type for f in part)


@dataclass(frozen=True, slots=True)
class Converted:
    """One API response in the declared schemas, ready to write.

    Attributes:
        ctx: The conversion context (season, date, gameId).
        silver: The silver rows.
        bronze: The bronze rows (None without a bronze table).
        raw: The raw object's bytes (None when not asked for or when the response is empty).
        rows: Records in the response.
    """

    ctx: dict[str, Any]
    silver: pa.Table
    bronze: pa.Table | None
    raw: bytes | None
    rows: int


def convert_response(
    spec: Spec,
    action: Action,
    response: Response,
    units: Mapping[str, ExpectedUnit],
    *,
    raw: bool = False,
) -> Converted:
    """Convert one API response to the declared silver and bronze schemas (before any write).

    The records stream through once, one at a time: each is flattened into the silver and
    bronze tables' next batch and appended to the raw object, so no list of decoded records
    is ever built (a day of plays would be hundreds of MB of Python objects).

    Args:
        spec: The action's spec.
        action: The fetch action.
        response: One of its responses.
        units: Expected units by key (for the season and date of the rows).
        raw: Also encode the raw object (gzip JSON Lines).

    Returns:
        The converted response.

    Raises:
        TerminalApiError: If the payload does not fit the declared schemas.
    """
    bronze_schema = BRONZE_TABLES.get(str(action.details.get("bronze") or ""))
    ctx = _ctx(action, units, response.params)
    silver_schema = SILVER_TABLES[spec.target.silver.table]
    # Where bronze is a subset of silver's columns (plays, substitutions), it is read off the
    # silver table: once silver converts, every shared column holds what bronze's flattening
    # would give (a value bronze would coerce, silver rejects), and it costs no second copy.
    shared = bronze_schema is not None and _subset(bronze_schema.schema, silver_schema.schema)
    silver_b = TableBuilder(silver_schema, ctx)
    bronze_b = TableBuilder(bronze_schema, ctx) if bronze_schema is not None and not shared else None
    encoder = RawEncoder() if raw else None
    n = 0
    try:
        for rec in response.iter_records():
            silver_b.add(rec)
            if bronze_b is not None:
                bronze_b.add(rec)
            if encoder is not None:
                encoder.add(rec)
            n += 1
        silver = silver_b.finish()
        bronze = bronze_b.finish() if bronze_b is not None else None
        if shared and bronze_schema is not None:
            bronze = silver.select(bronze_schema.schema.names)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as exc:
        raise TerminalApiError(f"malformed payload for {action.address}: {str(exc).splitlines()[0]}") from None
    for c in spec.target.silver.unit_columns:
        if silver.num_rows and silver.column(c).null_count:
            raise TerminalApiError(f"malformed payload for {action.address}: {c} is null")
    return Converted(ctx, silver, bronze, encoder.finish() if encoder is not None and n else None, n)


def materialize_fetch(
    store: ObjectStore,
    spec: Spec,
    action: Action,
    responses: list[Response],
    units: Mapping[str, ExpectedUnit],
    index: TableIndex,
    today: str,
) -> Outcome:
    """Write an action's API responses to raw, bronze and silver.

    Args:
        store: The object store.
        spec: The action's spec.
        action: The fetch action.
        responses: Its responses (one, or one per date window); emptied as they are converted,
            so that a body (a day of plays is 10-20 MB) is freed before the writes begin.
        units: Expected units by key (for seasons, dates and partitions).
        index: The silver table as a full scan sees it (keys already held are not written again).
        today: The UTC ingest date ``YYYY-MM-DD``.

    Returns:
        What was written.

    Raises:
        TerminalApiError: If a payload does not fit the declared schemas (nothing is written then).
    """
    bronze_name = str(action.details.get("bronze") or "")
    raw_dir = str(action.details.get("raw") or "")
    strategy = next((s for s in spec.fetch if s.name == action.strategy), None)
    # Convert everything first: a bad payload must not leave partial writes behind. Records
    # stream through one at a time: what is kept is each response's tables and raw bytes.
    converted = []
    while responses:
        r = responses.pop(0)
        converted.append((r.params, convert_response(spec, action, r, units, raw=bool(raw_dir))))
        del r
    out = Outcome()
    for params, c in converted:
        ctx, bronze, raw = c.ctx, c.bronze, c.raw
        if not c.rows:
            dl = f"deadletter/{bronze_name}/ingested_at={today}/part-{hash8(params)}.json"
            body = {"reason": "empty_response", "params": dict(params), "endpoint": bronze_name}
            store.put(dl, json.dumps(body).encode(), if_absent=True)
            continue
        if raw is not None:
            out.objects.append(write_raw(store, raw_key(raw_dir, today, params), raw))
        if bronze is not None:
            part = bronze_partition(strategy, ctx, today)
            out.objects.append(
                write_parquet(store, table_key("bronze", bronze_name, part, params), bronze, action.address)
            )
    tables = [c.silver for _, c in converted if c.silver.num_rows]
    if tables:
        combined = pa.concat_tables(tables)
        key_params = action.details.get("params") or (action.request.params if action.request else {})
        whole = converted[0][0] if len(converted) == 1 else None
        write_silver_rows(store, spec, action, combined, units, index, key_params, out, whole)
    return out


def materialize_rebuild(
    store: ObjectStore,
    spec: Spec,
    action: Action,
    units: Mapping[str, ExpectedUnit],
    index: TableIndex,
) -> Outcome:
    """Rebuild silver rows for an action's units from the bronze layer (no API calls).

    Args:
        store: The object store.
        spec: The spec.
        action: The rebuild action (``details`` name the bronze table and partition params).
        units: Expected units by key.
        index: The silver table as a full scan sees it.

    Returns:
        What was written.
    """
    bronze_name = str(action.details["bronze"])
    params = dict(action.details.get("params") or {})
    strat = next(s for s in spec.fetch if s.name == action.strategy)
    ucols = strat.unit_columns or spec.target.silver.unit_columns
    prefix = f"bronze/{bronze_name}/season={params.get('season')}/date={params.get('date')}/"
    keys = [o.key for o in store.list_objects(prefix) if o.key.endswith(".parquet")]
    table = read_parquet_objects(store, keys)
    out = Outcome()
    if table.num_rows == 0:
        return out
    table = filter_units(table, ucols, set(action.units))
    records = [{k: parse_nested(v) for k, v in row.items() if k != "__key"} for row in table.to_pylist()]
    ctx = {"season": action.season, "date": params.get("date")}
    by_game: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        by_game[rec.get("gameId")].append(rec)
    silver_schema = SILVER_TABLES[spec.target.silver.table]
    parts = [records_to_table(silver_schema, recs, {**ctx, "gameId": g}) for g, recs in sorted(by_game.items())]
    if not parts:
        return out
    key_params = {"rebuild": bronze_name, **params}
    write_silver_rows(store, spec, action, pa.concat_tables(parts), units, index, key_params, out)
    return out
