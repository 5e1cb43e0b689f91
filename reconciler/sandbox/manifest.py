"""``manifest.json``: what a sandbox lake holds and which gaps were injected, per target and season.

Units: ``plays`` and ``substitutions`` are counted per ``gameId`` (ints); ``lineups`` per
``(gameId, teamId)``, written ``"gameId:teamId"``. Per season:

* ``expected``: units of final games (``lineups``: both teams of each final game);
* ``missing``: expected units without a row in silver (including ``api_empty``);
* ``api_empty``: missing units for which the API returns ``[]`` (they can never be fetched);
* ``partial``: units present in silver but incomplete (plays stopping after period 1);
* ``collapsed``: units present in silver but reduced to one row by cbbd_etl's key bug;
* ``one_team_only`` (lineups): games whose silver holds every unit of the home team (complete)
  and nothing of the away team;
* ``deadlettered``: game ids with an ``empty_response`` deadletter object.

A lake written with ``--writer pipeline`` also has ``writer: "pipeline"`` and a ``pipeline``
section (its layouts, pre-existing duplicates, zero-column files, ``season=unknown`` partitions
and lagging catalog; :mod:`reconciler.sandbox.pipeline_init`). The default writer's manifest
leaves both out. The twin of the real lake (``--twin``) adds ``twin``: how its coverage was
derived from the real lake's audit, with the numbers per season (:mod:`reconciler.synth.twin`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reconciler.errors import LakeError

__all__ = [
    "MANIFEST_VERSION",
    "Manifest",
    "SeasonCoverage",
    "TargetManifest",
    "load_manifest",
    "season_totals",
]

MANIFEST_VERSION = 1
Unit = int | str


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeasonCoverage(_Frozen):
    """One target's injected state for one season."""

    expected: int
    present: int
    complete: int
    silver_rows: int
    wholly_missing: bool = False
    missing: list[Unit] = Field(default_factory=list)
    api_empty: list[Unit] = Field(default_factory=list)
    partial: list[Unit] = Field(default_factory=list)
    collapsed: list[Unit] = Field(default_factory=list)
    one_team_only: list[int] = Field(default_factory=list)
    deadlettered: list[int] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)


class TargetManifest(_Frozen):
    """One target (``plays``, ``substitutions``, ``lineups``) over all seasons."""

    unit: str
    silver_table: str
    seasons: dict[str, SeasonCoverage]
    totals: dict[str, int]


class Manifest(_Frozen):
    """The whole manifest."""

    format_version: int = MANIFEST_VERSION
    seed: int
    scale: float
    seasons: list[int]
    ingest_date: str
    raw_plays: bool
    wholly_missing: dict[str, list[int]]
    games: dict[str, dict[str, int]]
    targets: dict[str, TargetManifest]
    drift: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, dict[str, int]] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    writer: str = "default"
    pipeline: dict[str, Any] = Field(default_factory=dict)
    twin: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> str:
        """Serialise deterministically (sorted keys, two-space indent).

        ``writer`` and ``pipeline`` are left out for the default writer, and ``twin`` for any
        sandbox but the twin, whose manifests are unchanged by their addition.

        Returns:
            The JSON text, newline-terminated.
        """
        data = self.model_dump(mode="json")
        if self.writer == "default" and not self.pipeline:
            del data["writer"], data["pipeline"]
        if not self.twin:
            del data["twin"]
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    def save(self, path: str | Path) -> None:
        """Write the manifest.

        Args:
            path: The file.
        """
        Path(path).write_text(self.to_json(), encoding="utf-8")


def season_totals(seasons: dict[str, SeasonCoverage]) -> dict[str, int]:
    """Sum the per-season counts of a target.

    Args:
        seasons: Per-season coverage.

    Returns:
        ``expected``, ``present``, ``complete``, ``silver_rows`` and each ``counts`` entry, summed.
    """
    out: dict[str, int] = {"expected": 0, "present": 0, "complete": 0, "silver_rows": 0}
    for cov in seasons.values():
        out["expected"] += cov.expected
        out["present"] += cov.present
        out["complete"] += cov.complete
        out["silver_rows"] += cov.silver_rows
        for k, v in cov.counts.items():
            out[k] = out.get(k, 0) + v
    return out


def load_manifest(path: str | Path) -> Manifest:
    """Read a sandbox manifest.

    Args:
        path: ``DIR/manifest.json`` (or the sandbox directory).

    Returns:
        The manifest.

    Raises:
        LakeError: If the file is missing or not a valid manifest.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "manifest.json"
    try:
        return Manifest.model_validate_json(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LakeError(f"{p}: no sandbox manifest (run `reconcile sandbox init`)") from None
    except ValueError as exc:
        raise LakeError(f"{p}: not a valid sandbox manifest ({exc})") from None
