"""The checkpoints a filled lake's applies leave: every unit the API lacks recorded ``empty``.

A complete sandbox lake (``sandbox init --complete``) holds every unit the simulated API has. The
units it lacks are absent from the lake too; in the steady state a user lives in, an apply has
asked the API for each of them and checkpointed it ``empty``, so the next plan counts it as
verified empty instead of fetching it again. This writes those checkpoints directly: every
expected unit absent from its table, ``empty``, with its season. At a small scale this is
exactly the set of ``empty`` records a real apply of the same sandbox leaves (checked by
``tests/sandbox/test_complete.py``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from reconciler.config import load_profile
from reconciler.core.addresses import unit_address
from reconciler.ports import UnitRecord
from reconciler.service import Session

__all__ = ["record_verified_empty"]

#: Marks the records in ``extra``: written by the sandbox, not by an apply.
WRITTEN_BY = "sandbox init --complete"


def record_verified_empty(dest: Path, seasons: Sequence[int], now: float | None = None) -> dict[str, int]:
    """Checkpoint every expected unit absent from its table as ``empty``.

    Args:
        dest: The sandbox directory (its ``config.yaml``).
        seasons: The sandbox's seasons.
        now: When the units were checked (epoch seconds; default: now).

    Returns:
        Target → units recorded.
    """
    checked = time.time() if now is None else now
    session = Session.open(load_profile(dest / "config.yaml"))
    try:
        observed = session.observe(seasons, whole=True)
        specs = {s.name: s for s in session.specs}
        records: list[UnitRecord] = []
        for name, target in observed.targets.items():
            for u in target.expected or ():
                if u.key in target.present:
                    continue
                extra = {"address": unit_address(specs[name], u), "by": WRITTEN_BY}
                records.append(UnitRecord(name, u.key, "empty", updated_at=checked, season=u.season, extra=extra))
        session.backends.state.record_units(records)
    finally:
        session.close()
    return dict(Counter(r.target for r in records))
