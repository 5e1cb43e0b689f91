"""A catalog table whose partition keys differ from the declared layout: the one action that re-keys it.

The action (``layout.register[<table>][partition-keys]``) is one confirmed step that leaves the
table readable by Athena at its end:

* the new keys are merged into the table as it is (Parameters, SerDe and storage kept);
* data columns named like a new key are dropped from the columns (Athena refuses a table with
  ``date`` as both a column and a key; the value comes from the partition path instead);
* every registered partition of the old key shape is moved, when its path fits the new keys
  (``season=2025/date=2024-12-01/`` registered as ``season, asof``: registered again with the
  values its path gives), or dropped from the catalog (its path does not fit: ``asof=`` folders,
  whose objects the ``relayout`` actions move into the declared layout). No data is touched.

Pure: the planner and the executor share :func:`path_values`.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.core.layout_observed import FileObs, TableObs
from reconciler.core.plan import Action

__all__ = ["path_values", "rekey_action"]


def path_values(table_location: str, location: str, keys: Sequence[str]) -> tuple[str, ...] | None:
    """A partition's values under some keys, read from its location's path, if the path fits them.

    Args:
        table_location: The table's prefix (``silver/fct_plays/``).
        location: The partition's location (``silver/fct_plays/season=2025/date=2024-12-01/``).
        keys: The key names, in order.

    Returns:
        The values (``("2025", "2024-12-01")``), or None when the path is not ``k1=v1/k2=v2/``
        for exactly these keys (case-insensitive), under the table's prefix.
    """
    if not location.startswith(table_location):
        return None
    segs = [s for s in location[len(table_location) :].split("/") if s]
    if len(segs) != len(keys) or not all("=" in s for s in segs):
        return None
    pairs = [s.split("=", 1) for s in segs]
    if [k.lower() for k, _ in pairs] != [k.lower() for k in keys]:
        return None
    return tuple(v for _, v in pairs)


def _sig(keys: Sequence[str]) -> str:
    return "/".join(f"{k}=" for k in keys) or "(no partition)"


def rekey_action(t: TableObs, live: Sequence[FileObs], address: str) -> Action:
    """The action that re-keys a catalog table to its declared layout.

    Args:
        t: The table (its catalog view is not None and its keys differ from the declared ones).
        live: Its live objects (their layouts are shown).
        address: The action's address.

    Returns:
        A ``register`` action with ``op: table``.
    """
    d, cat = t.decl, t.catalog
    assert cat is not None
    keys = d.partition_keys
    types = {k.lower(): typ for k, typ in cat.partition_keys}
    new = [[k, types.get(k.lower(), "string")] for k in keys]
    signatures = sorted({_sig([k for k, _ in f.partition]) for f in live})
    was = ", ".join(f"{k} {typ}" for k, typ in cat.partition_keys) or "none"
    fix = ", ".join(f"{k} {typ}" for k, typ in new)
    names = {k.lower() for k in keys}
    dropped = [c for c, _ in cat.columns if c.lower() in names]
    moved = sum(1 for p in cat.partitions if path_values(cat.location, p.location, keys) is not None)
    gone = len(cat.partitions) - moved
    steps = [f"update the table's partition keys to ({fix}), its Parameters, SerDe and storage kept"]
    if dropped:
        steps.append(f"drop the data column(s) {', '.join(dropped)} that the keys now name")
    if cat.partitions:
        steps.append(
            f"move the {moved} registered partition(s) whose path fits the new keys and drop the {gone} that "
            "do not (catalog only; their objects are relaid out)"
            if gone
            else f"move the {moved} registered partition(s) to the new keys"
        )
    return Action(
        type="register",
        address=address,
        target="layout",
        reason=(
            f"catalog partition keys ({was}) differ from the declared layout {d.layout} "
            f"(storage holds {', '.join(signatures) or 'nothing'}); fix, in one step: {'; '.join(steps)} "
            "(Glue UpdateTable, BatchDeletePartition, BatchCreatePartition; data untouched)"
        ),
        details={
            "op": "table",
            "kind": f"{d.qualified} partition keys",
            "database": d.database,
            "table": d.table,
            "partition_keys": new,
            "was": [list(k) for k in cat.partition_keys],
            "drop_columns": dropped,
            "partitions": {"move": moved, "drop": gone},
        },
    )
