"""The DynamoDB items of the state store: their keys, attributes and payloads, both ways.

See :mod:`reconciler.adapters.dynamo_state` for the namespaces; this module only encodes and
decodes items (no calls).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.errors import BackendError
from reconciler.lake.layout import param_hash
from reconciler.ports import LockInfo, UnitRecord

__all__ = [
    "LOCK_ENDPOINT",
    "META_ENDPOINT",
    "UNIT_ENDPOINT_PREFIX",
    "lock_item",
    "lock_of",
    "num_attr",
    "str_attr",
    "unit_endpoint",
    "unit_item",
    "unit_record",
]

UNIT_ENDPOINT_PREFIX = "reconcile:"
META_ENDPOINT = "reconcile:meta"
LOCK_ENDPOINT = "reconcile:lock"


def str_attr(value: str) -> dict[str, str]:
    """A string attribute value (``{"S": value}``)."""
    return {"S": value}


def num_attr(value: float) -> dict[str, str]:
    """A number attribute value (``{"N": "…"}``, six decimals)."""
    return {"N": f"{value:.6f}"}


def unit_endpoint(target: str) -> str:
    """The ``endpoint`` (hash key) of a target's unit items.

    Raises:
        BackendError: If the target's name would collide with the meta or lock namespace.
    """
    endpoint = UNIT_ENDPOINT_PREFIX + target
    if endpoint in (META_ENDPOINT, LOCK_ENDPOINT) or not target:
        raise BackendError(f"target name {target!r} is reserved in the checkpoint table; rename the spec")
    return endpoint


def unit_item(r: UnitRecord) -> dict[str, Any]:
    """The item of a unit record (keys, ``unit`` and the whole record as JSON ``payload``)."""
    payload = {
        "target": r.target,
        "unit": r.unit,
        "status": r.status,
        "rows": r.rows,
        "attempts": r.attempts,
        "error": r.error,
        "updated_at": r.updated_at,
        "season": r.season,
        "extra": dict(r.extra),
    }
    return {
        "endpoint": str_attr(unit_endpoint(r.target)),
        "parameter_hash": str_attr(param_hash({"unit": r.unit})),
        "unit": str_attr(r.unit),
        "payload": str_attr(json.dumps(payload, sort_keys=True, default=str)),
    }


def lock_item(lock: LockInfo) -> dict[str, Any]:
    """The item of a lease (its fields as attributes, for conditions, and a ``payload``)."""
    described = {
        "lock_id": lock.lock_id,
        "owner": lock.owner,
        "host": lock.host,
        "pid": lock.pid,
        "command": lock.command,
        "created_at": lock.created_at,
    }
    return {
        "endpoint": str_attr(LOCK_ENDPOINT),
        "parameter_hash": str_attr(param_hash({"lock_id": lock.lock_id})),
        "lock_id": str_attr(lock.lock_id),
        "owner": str_attr(lock.owner),
        "host": str_attr(lock.host),
        "pid": num_attr(lock.pid),
        "command": str_attr(lock.command),
        "created_at": num_attr(lock.created_at),
        "expires_at": num_attr(lock.expires_at),
        "payload": str_attr(json.dumps(described, sort_keys=True)),
    }


def lock_of(item: dict[str, Any]) -> LockInfo:
    """A lease item as a lock."""
    return LockInfo(
        lock_id=item["lock_id"]["S"],
        owner=item["owner"]["S"],
        host=item["host"]["S"],
        pid=int(float(item["pid"]["N"])),
        command=item["command"]["S"],
        created_at=float(item["created_at"]["N"]),
        expires_at=float(item["expires_at"]["N"]),
    )


def unit_record(target: str, item: Mapping[str, Any], what: str) -> UnitRecord:
    """A unit item as a record.

    Args:
        target: The spec name.
        item: The DynamoDB item.
        what: The table, for the error message.

    Returns:
        The record.

    Raises:
        BackendError: If the item of our namespace is malformed (it is named).
    """
    try:
        p = json.loads(item["payload"]["S"])
        return UnitRecord(
            target=target,
            unit=p["unit"],
            status=p["status"],
            rows=int(p.get("rows", 0)),
            attempts=int(p.get("attempts", 0)),
            error=str(p.get("error", "")),
            updated_at=float(p.get("updated_at", 0.0)),
            season=None if p.get("season") is None else int(p["season"]),
            extra=dict(p.get("extra") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        key = item.get("parameter_hash", {}).get("S", "?")
        raise BackendError(f"{what}: item {UNIT_ENDPOINT_PREFIX}{target}/{key} is malformed ({exc!r})") from None
