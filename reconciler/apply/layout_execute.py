"""Execute the layout target's actions: the executor's relayout, dedupe, register, delete handlers.

Every handler re-checks the lake before acting, so a saved plan applied late cannot do harm:

* ``relayout`` and ``dedupe`` (run only with ``--allow-delete``) first verify that the original is
  still the object planned (size and modification time), write the replacement under the
  never-overwrite rule, record the original as superseded in the state store, and delete it:
  one step, so readers never see both copies for longer than that step.
* ``register`` batches all of a table's partitions of the plan into one catalog call sequence
  (BatchCreatePartition, 100 a call; or MSCK REPAIR TABLE when the plan says so).
* ``delete`` (run only with ``--allow-delete``) deletes an object only if the state store
  records it as superseded and every replacement exists, and removes an orphan partition from
  the catalog only if its prefix still holds no live object.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.apply.lakeio import dedupe_rows, write_parquet
from reconciler.apply.layout_catalog import Msck, WrittenPartitions, register_partitions
from reconciler.apply.layout_rewrite import canonical_partitions, cast_columns, output_key, split_rows
from reconciler.apply.materialize import Outcome
from reconciler.core.layout_observed import TableDecl
from reconciler.core.layout_rekey import path_values
from reconciler.core.plan import Action
from reconciler.errors import LakeError
from reconciler.lake.keys import KeyPart, key_parts
from reconciler.observe.layout_files import file_obs, list_table, object_keys, read_footers, read_object, stat
from reconciler.observe.layout_superseded import Superseded, load_superseded, record_superseded, same_object
from reconciler.ports import Catalog, CatalogTable, ObjectInfo, ObjectStore, PartitionSpec, StateStore

__all__ = ["BATCH_PARTITIONS", "LayoutApply"]

#: Partitions written are registered in batches of this many (one BatchCreatePartition call).
BATCH_PARTITIONS = 100

log = logging.getLogger(__name__)


def _decl(d: Mapping[str, Any]) -> TableDecl:
    return TableDecl(
        layer=str(d["layer"]),
        database=str(d["database"]),
        table=str(d["table"]),
        layout=str(d["layout"]),
        key=tuple(d.get("key") or ()),
        dedupe=bool(d.get("dedupe")),
    )


@dataclass
class LayoutApply:
    """The layout handlers of one apply, and the registrar of the partitions it writes.

    Attributes:
        store: The object store.
        catalog: The catalog.
        state: The state store.
        msck: Runs MSCK REPAIR TABLE (Athena over Glue), for registers that ask for it.
        actions: The plan's actions (registers are batched per table across them).
        written: Partitions written during this apply, registered by :meth:`flush`.
        clock: Epoch seconds.
    """

    store: ObjectStore
    catalog: Catalog
    state: StateStore
    msck: Msck | None
    actions: Sequence[Action]
    written: WrittenPartitions
    clock: Callable[[], float] = time.time
    _registered: set[tuple[str, str]] = field(default_factory=set)

    def handlers(self) -> dict[str, Callable[[Action], None]]:
        """The executor's handlers for the layout action types.

        Returns:
            ``relayout``, ``dedupe``, ``register`` and ``delete`` handlers.
        """
        return {"relayout": self.rewrite, "dedupe": self.rewrite, "register": self.register, "delete": self.delete}

    def on_written(self, action: Action, outcome: Outcome) -> None:
        """Note what a fetch or rebuild wrote; register in batches of 100 partitions as they fill.

        Args:
            action: The action.
            outcome: What it wrote.
        """
        self.written.add(outcome.objects)
        if self.written.pending() >= BATCH_PARTITIONS:
            self.written.flush()

    def flush(self) -> int:
        """Register every partition written during the apply (tables the catalog has).

        Returns:
            Partitions submitted.
        """
        return self.written.flush()

    def _verify(self, obj: Mapping[str, Any], address: str) -> ObjectInfo:
        info = stat(self.store, str(obj["key"]))
        if info is None:
            raise LakeError(f"{address}: {obj['key']} is gone since the plan was made; plan again")
        if info.size != int(obj["size"]) or abs(info.mtime - float(obj["mtime"])) >= 0.5:
            raise LakeError(f"{address}: {obj['key']} changed since the plan was made; plan again")
        return info

    def _held_by_newer(self, action: Action, parts: Sequence[KeyPart]) -> set[tuple[Any, ...]]:
        """The keys the newer objects of a rewrite hold now, wherever their rows went since.

        Rewrites run newest object first, so a newer object may already have been rewritten
        (moved, de-duplicated) by this apply: its keys are then read from its replacements.
        """
        held: set[tuple[Any, ...]] = set()
        superseded: Mapping[str, Superseded] | None = None
        for newer in action.details.get("newer", []):
            key = str(newer["key"])
            info = stat(self.store, key)
            if info is not None and info.size == int(newer["size"]) and abs(info.mtime - float(newer["mtime"])) < 0.5:
                sources = [key]
            else:
                superseded = superseded if superseded is not None else load_superseded(self.state)
                rec = superseded.get(key)
                if rec is None:
                    raise LakeError(f"{action.address}: {key} changed since the plan was made; plan again")
                sources = list(rec.replacements)
            for src in sources:
                held.update(object_keys(self.store, src, parts) or [])
        return held

    def rewrite(self, action: Action) -> None:
        """Relayout or de-duplicate one object: write its new copy, then remove the original, as one step.

        The rows are placed under the declared layout (a relayout) or kept where they are (a
        dedupe); rows whose natural key a newer object holds are dropped (the newest row wins),
        as are repeats within the object. The object's columns keep their types, but for those
        that break a reader (cast to the declared type). The original is recorded as superseded
        before it is deleted, so an interruption between the two leaves a ``delete`` action in
        the next plan. Run only with ``--allow-delete`` (the executor's gate).

        Args:
            action: A ``relayout`` or ``dedupe`` action.

        Raises:
            LakeError: If the object changed since the plan, or cannot be rewritten.
        """
        d = _decl(action.details)
        info = self._verify(action.details["object"], action.address)
        f = file_obs(d, info)
        parts = key_parts(d.table, d.key)
        table = read_object(self.store, info.key)
        broken = [str(c).split(" ", 1)[0] for c in action.details.get("drift", [])]
        table = cast_columns(table, d, broken, info.key)
        if action.type == "relayout" and not action.details.get("canonical"):
            placed = canonical_partitions(table, d, dict(f.partition), info.mtime, info.key)
        else:
            placed = [f.partition_dir] * table.num_rows
        drop = self._held_by_newer(action, parts) if d.dedupe else set()
        written, n = [], 0
        for part, rows in split_rows(table, placed).items():
            if d.dedupe:
                rows = dedupe_rows(rows, parts, drop)
            if rows.num_rows:
                written.append(
                    write_parquet(self.store, output_key(d, part, info.key, action.type), rows, action.address)
                )
                n += rows.num_rows
        record = Superseded(
            info.key, info.size, info.mtime, action.address, tuple(written), rows=table.num_rows, written=n
        )
        record_superseded(self.state, [record], self.clock())
        self.written.add(written)
        self.store.delete([info.key])
        log.info(
            "%s: %d of %d rows rewritten to %d object(s); original removed",
            action.address,
            n,
            table.num_rows,
            len(written),
        )

    def register(self, action: Action) -> None:
        """Fix a table's partition keys, or register all of a table's planned partitions at once.

        Args:
            action: A ``register`` action.

        Raises:
            LakeError: If the table is missing, or its keys still differ from the declared ones.
        """
        db, name = str(action.details["database"]), str(action.details["table"])
        table = self.catalog.get_table(db, name)
        if table is None:
            raise LakeError(f"{action.address}: {db}.{name} is not in the catalog")
        if action.details.get("op") == "table":
            self.rekey(action, table)
            return
        if (db, name) in self._registered:
            return
        mine = [
            a
            for a in self.actions
            if a.type == "register"
            and a.details.get("op") == "partition"
            and (a.details.get("database"), a.details.get("table")) == (db, name)
        ]
        width = len(action.details["values"])
        if len(table.partition_keys) != width:
            have = len(table.partition_keys)
            raise LakeError(f"{action.address}: {db}.{name} has {have} partition keys, not {width}")
        parts = [PartitionSpec(tuple(a.details["values"]), str(a.details["location"])) for a in mine]
        method = str(action.details.get("method", "batch"))
        calls = register_partitions(self.catalog, db, name, parts, method=method, msck=self.msck)
        self._registered.add((db, name))
        log.info("%s.%s: %d partition(s) registered (%s, %d call(s))", db, name, len(parts), method, calls)

    def rekey(self, action: Action, table: CatalogTable) -> None:
        """Change a table's partition keys in one step that leaves it readable (:mod:`reconciler.core.layout_rekey`).

        Every registered partition (all seasons) of the old key shape is taken out first; the
        table is then updated in place (Parameters, SerDe and storage kept; data columns named
        like a key dropped); the partitions whose path fits the new keys are registered again
        under the values their path gives. Interrupted before the update, the next plan plans
        the change again and registers what is in storage; no data is touched either way.

        Args:
            action: The ``register`` action with ``op: table``.
            table: The table as the catalog holds it now.
        """
        db, name = table.database, table.name
        keys = tuple((str(k), str(t)) for k, t in action.details["partition_keys"])
        names = [k for k, _ in keys]
        lowered = {k.lower() for k in names}
        old = self.catalog.list_partitions(db, name)
        moved = [
            PartitionSpec(values, p.location)
            for p in old
            if (values := path_values(table.location, p.location, names)) is not None
        ]
        if old:
            self.catalog.delete_partitions(db, name, old)
        columns = tuple(c for c in table.columns if c[0].lower() not in lowered)
        self.catalog.put_table(replace(table, columns=columns, partition_keys=keys))
        if moved:
            self.catalog.create_partitions(db, name, moved)
        dropped = [c for c, _ in table.columns if c.lower() in lowered]
        log.info(
            "%s.%s: partition keys (%s) → (%s)%s; %d partition(s) moved, %d dropped from the catalog",
            db,
            name,
            ", ".join(k for k, _ in table.partition_keys),
            ", ".join(names),
            f"; column(s) {', '.join(dropped)} dropped" if dropped else "",
            len(moved),
            len(old) - len(moved),
        )

    def _live_under(self, database: str, name: str, location: str) -> bool:
        layer = location.split("/", 1)[0]
        decl = TableDecl(layer=layer, database=database, table=name, layout="")
        superseded = load_superseded(self.state)
        for info in list_table(self.store, decl, location):
            rec = superseded.get(info.key)
            if rec is None or not same_object(rec, info):
                return True
        return False

    def _quarantine(self, action: Action, info: ObjectInfo) -> None:
        """Move an unreadable object out of its table, keeping its bytes under ``quarantine/``."""
        d = action.details
        self._verify(d["object"], action.address)
        if not read_footers(self.store, [file_obs(TableDecl("", "", "", ""), info)])[0].unreadable:
            raise LakeError(f"{action.address}: {info.key} is readable now; kept")
        data = self.store.get(info.key)
        dest = str(d["quarantine"])
        if not self.store.put(dest, data, if_absent=True) and self.store.get(dest) != data:
            dest = f"{dest}.{int(info.mtime)}"
            self.store.put(dest, data, if_absent=True)
        self.store.delete([info.key])
        log.info("%s: moved to %s", info.key, dest)

    def delete(self, action: Action) -> None:
        """Delete a superseded original or an object with no columns, or remove a catalog partition.

        An object with no columns (it holds no data) is deleted once verified unchanged; any other
        object only when it is recorded as superseded and every replacement exists.

        Args:
            action: A ``delete`` action (the executor calls this only with ``--allow-delete``).

        Raises:
            LakeError: If the object is not recorded as superseded, or a replacement is missing.
        """
        d = action.details
        if d.get("op") == "partition":
            db, name, location = str(d["database"]), str(d["table"]), str(d["location"])
            if d.get("case") == "orphan" and self._live_under(db, name, location):
                log.warning("%s: %s holds live objects again; left registered", action.address, location)
                return
            spec = PartitionSpec(tuple(str(v) for v in d["values"]), location)
            self.catalog.delete_partitions(db, name, [spec])
            if d.get("reregister"):
                self.catalog.create_partitions(db, name, [replace(spec, location=str(d["reregister"]))])
            return
        key = str(d["object"]["key"])
        info = stat(self.store, key)
        if info is None:
            log.info("%s: already gone", action.address)
            return
        if d.get("quarantine"):
            self._quarantine(action, info)
            return
        if d.get("empty"):
            self._verify(d["object"], action.address)
            if read_footers(self.store, [file_obs(TableDecl("", "", "", ""), info)])[0].columns:
                raise LakeError(f"{action.address}: {key} has columns now; kept")
            self.store.delete([key])
            return
        rec = load_superseded(self.state).get(key)
        if rec is None or not same_object(rec, info):
            raise LakeError(f"{action.address}: not recorded as superseded (was its replacement written?); kept")
        missing = [r for r in rec.replacements if not self.store.exists(r)]
        if missing:
            raise LakeError(f"{action.address}: replacement {missing[0]} is missing; kept")
        self.store.delete([key])

    @classmethod
    def open(
        cls,
        backends: Any,
        databases: Mapping[str, str],
        actions: Sequence[Action],
        *,
        method: str = "batch",
        msck: Msck | None = None,
    ) -> LayoutApply:
        """Build from open backends.

        Args:
            backends: The profile's backends (store, catalog, state).
            databases: Layer prefix → catalog database.
            actions: The plan's actions.
            method: How written partitions are registered (``batch`` or ``msck``).
            msck: Runs MSCK REPAIR TABLE, when it can run here (Athena over Glue).

        Returns:
            The handlers' owner.
        """
        how = "msck" if msck is not None and method == "msck" else "batch"
        written = WrittenPartitions(backends.catalog, databases, how, msck)
        return cls(backends.store, backends.catalog, backends.state, msck, actions, written)
