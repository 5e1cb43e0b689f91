"""Where the ``--writer pipeline`` sandbox writes, and the log its lagging catalog is built from.

:class:`PipelineOut` names every object as cbbd_etl does (``s3_io.py:make_part_key`` joins the
parts; ``part-<hash8(params)>``) and notes each bronze/silver write in a :class:`WriteLog`: the
day each partition directory first held an object (what ``MSCK REPAIR TABLE`` on a repair day can
see) and, per table, the last write that updated the Glue table (``glue_catalog.py:ensure_table``
after every orchestrator write: the last writer's columns and partition keys win).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from reconciler.lake.layout import hash8, raw_key
from reconciler.sandbox.pipeline_rules import glue_type
from reconciler.sandbox.sink import Sink

__all__ = ["RANK", "LastWrite", "PipelineOut", "WriteLog"]

#: Order of the writers within one day (the registry runs ``lineups_game``, ``plays_game``,
#: ``plays_date``, ``substitutions_game`` in that order; ``games`` runs first).
RANK = {"games": 1, "lineups_game": 2, "plays_game": 3, "plays_date": 4, "substitutions_game": 5}

#: ``(day, rank, season, sequence)``: later tuples are later writes.
When = tuple[str, int, int, int]


@dataclass(frozen=True, slots=True)
class LastWrite:
    """The write that last updated a table's catalog definition.

    Attributes:
        when: Its ``(day, rank, season, sequence)``.
        schema: Its file's schema.
        partition: Its partition path.
    """

    when: When
    schema: pa.Schema
    partition: str

    @property
    def keys(self) -> tuple[str, ...]:
        """The partition key names (``orchestrate.py:_update_glue``)."""
        return tuple(p.split("=")[0] for p in self.partition.split("/")) if self.partition else ()

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """The file's columns minus the partition names, as ``(name, Glue type)``."""
        keys = self.keys
        return tuple((f.name, glue_type(f.type)) for f in self.schema if f.name not in keys)


@dataclass
class WriteLog:
    """Partitions with the day they first held an object, and each table's last catalog update.

    Attributes:
        repair: The repair day: :attr:`at_repair` keeps the last update on or before it.
        partitions: ``(layer, table, partition path)`` → first day.
        last: ``(layer, table)`` → last write that updated the table.
        at_repair: The same, as of the repair day.
    """

    repair: str = ""
    partitions: dict[tuple[str, str, str], str] = field(default_factory=dict)
    last: dict[tuple[str, str], LastWrite] = field(default_factory=dict)
    at_repair: dict[tuple[str, str], LastWrite] = field(default_factory=dict)
    _seq: int = 0

    def note(
        self, layer: str, table: str, partition: str, day: str, rank: int, season: int, schema: pa.Schema | None
    ) -> None:
        """Record one write.

        Args:
            layer: ``bronze`` or ``silver``.
            table: The table.
            partition: Its partition path (``season=S/date=D``; ``""`` at the table root).
            day: The day of the write.
            rank: The writer's :data:`RANK` (0 for scripts).
            season: The season being written (orders a run's writes).
            schema: The file's schema, or None when the write does not update the table.
        """
        key = (layer, table, partition)
        if key not in self.partitions or day < self.partitions[key]:
            self.partitions[key] = day
        if schema is None:
            return
        self._seq += 1
        when: When = (day, rank, season, self._seq)
        lw = LastWrite(when, schema, partition)
        _keep_later(self.last, (layer, table), lw)
        if day <= self.repair:
            _keep_later(self.at_repair, (layer, table), lw)

    def merge(self, other: WriteLog) -> None:
        """Fold another season's log into this one.

        Args:
            other: The other log.
        """
        for part, day in other.partitions.items():
            if part not in self.partitions or day < self.partitions[part]:
                self.partitions[part] = day
        for table, lw in other.last.items():
            _keep_later(self.last, table, lw)
        for table, lw in other.at_repair.items():
            _keep_later(self.at_repair, table, lw)


def _keep_later(into: dict[tuple[str, str], LastWrite], key: tuple[str, str], lw: LastWrite) -> None:
    prev = into.get(key)
    if prev is None or prev.when < lw.when:
        into[key] = lw


class PipelineOut:
    """Writes a pipeline sandbox's objects under cbbd_etl's names and logs them."""

    def __init__(self, sink: Sink, log: WriteLog, season: int) -> None:
        """Wrap a sink.

        Args:
            sink: The object writer.
            log: The write log to extend.
            season: The season being written (for the log's order).
        """
        self.sink = sink
        self.log = log
        self.season = season

    def raw(self, raw_dir: str, day: str, params: Mapping[str, Any], body: bytes, *, level: int = 9) -> str:
        """Write a raw object (``s3_io.py:put_json_gz``: gzip JSON Lines, default level 9).

        Args:
            raw_dir: ``games``, ``plays/game``, ...
            day: ``ingested_at``.
            params: The call's parameters.
            body: The JSON Lines text.
            level: gzip level.

        Returns:
            The key.
        """
        key = raw_key(raw_dir, day, params)
        self.sink.put_raw_text(key, body, level=level)
        return key

    @staticmethod
    def lines(records: Sequence[Mapping[str, Any]]) -> bytes:
        """JSON Lines of records as ``put_json_gz`` encodes them (``json.dumps(rec, default=str)``).

        Args:
            records: The records.

        Returns:
            The text.
        """
        return "".join(json.dumps(r, default=str) + "\n" for r in records).encode("utf-8")

    def table(
        self,
        layer: str,
        table: str,
        partition: str,
        name: str,
        data: pa.Table,
        *,
        day: str,
        rank: int,
        glue: bool = True,
    ) -> str:
        """Write a Parquet object (``s3_io.py:put_parquet``: snappy, pyarrow's defaults) and log it.

        Args:
            layer: ``bronze`` or ``silver``.
            table: The table.
            partition: The partition path (``""``: the table root).
            name: The part name without ``part-`` and ``.parquet`` (a hash8).
            data: The rows.
            day: The day of the write.
            rank: The writer's :data:`RANK`.
            glue: The write updates the catalog table (orchestrator, rebuild, gap fill's first).

        Returns:
            The key.
        """
        mid = f"{partition}/" if partition else ""
        key = f"{layer}/{table}/{mid}part-{name}.parquet"
        self.sink.put_parquet(key, data)
        self.log.note(layer, table, partition, day, rank, self.season, data.schema if glue else None)
        return key

    def tmp(self, run: str, endpoint: str, params: Mapping[str, Any]) -> None:
        """The zero-byte ``tmp/<run_id>/<endpoint>-<hash8>.tmp`` every orchestrator call leaves.

        Args:
            run: The run id.
            endpoint: The endpoint.
            params: The call's parameters.
        """
        self.sink.put(f"tmp/{run}/{endpoint}-{hash8(params)}.tmp", b"")

    def deadletter(self, endpoint: str, day: str, params: Mapping[str, Any]) -> str:
        """An ``empty_response`` deadletter (``orchestrate.py:_deadletter``).

        Args:
            endpoint: The endpoint.
            day: ``ingested_at``.
            params: The call's parameters.

        Returns:
            The key.
        """
        return self.sink.put_deadletter(endpoint, day, params)

    @staticmethod
    def part(params: Mapping[str, Any]) -> str:
        """The part name of a call.

        Args:
            params: The call's parameters.

        Returns:
            ``hash8(params)``.
        """
        return hash8(params)
