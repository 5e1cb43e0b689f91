"""Superseded objects: originals a relayout or dedupe replaced, kept until a delete is approved.

They are recorded in the state store as units of the pseudo-target :data:`SUPERSEDED`, one per
object key, through the ordinary ``record_units``/``load_units`` port, so SQLite and DynamoDB
hold them alike. A record names the action, the replacement objects, and the original's size and
modification time: an object is "pending delete" only while it is still that very object, so a
later write to the same key is never mistaken for the superseded original.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.ports import ObjectInfo, StateStore, UnitRecord

__all__ = ["SUPERSEDED", "Superseded", "load_superseded", "record_superseded", "same_object"]

#: The state namespace (a pseudo-target no spec can be named: specs are lower_snake_case).
SUPERSEDED = "layout.superseded"
_MTIME_SLACK = 0.5


@dataclass(frozen=True, slots=True)
class Superseded:
    """One superseded object.

    Attributes:
        key: The original's key.
        size: Its size when it was superseded.
        mtime: Its modification time then.
        by: The action that replaced it.
        replacements: The objects that action wrote (none when every row was held elsewhere).
        rows: The original's rows.
        written: Rows the replacements hold.
    """

    key: str
    size: int
    mtime: float
    by: str
    replacements: tuple[str, ...] = ()
    rows: int = 0
    written: int = 0


def same_object(rec: Superseded, info: ObjectInfo) -> bool:
    """Whether a listed object is still the one that was superseded.

    Args:
        rec: The record.
        info: The object as listed now.

    Returns:
        True when key and size match and the modification times agree within half a second.
    """
    return rec.key == info.key and rec.size == info.size and abs(rec.mtime - info.mtime) < _MTIME_SLACK


def load_superseded(state: StateStore) -> dict[str, Superseded]:
    """Every superseded-object record.

    Args:
        state: The state store.

    Returns:
        Records by object key.
    """
    out = {}
    for key, r in state.load_units(SUPERSEDED).items():
        x = dict(r.extra)
        out[key] = Superseded(
            key=key,
            size=int(x.get("size", -1)),
            mtime=float(x.get("mtime", 0.0)),
            by=str(x.get("by", "")),
            replacements=tuple(str(k) for k in x.get("replacements", ())),
            rows=r.rows,
            written=int(x.get("written", 0)),
        )
    return out


def record_superseded(state: StateStore, records: Sequence[Superseded], now: float) -> None:
    """Durably record superseded objects (called only after their replacements are written).

    Args:
        state: The state store.
        records: The records.
        now: Epoch seconds.
    """
    state.record_units(
        UnitRecord(
            target=SUPERSEDED,
            unit=r.key,
            status="done",
            rows=r.rows,
            updated_at=now,
            extra={
                "size": r.size,
                "mtime": r.mtime,
                "by": r.by,
                "replacements": list(r.replacements),
                "written": r.written,
            },
        )
        for r in records
    )
