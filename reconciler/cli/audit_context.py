"""What lake an audit describes, said first in its report: the real one, a sandbox, or the twin.

A report of a synthetic lake must not pass for the real lake's. When the config was written by
``reconcile sandbox init`` (it has a ``sandbox:`` section), the report opens with what the lake
is, how it was built, and the one command that produces the same report for the real lake.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from reconciler.config import Profile
from reconciler.errors import ConfigError, LakeError
from reconciler.sandbox.config_file import sandbox_settings
from reconciler.sandbox.manifest import load_manifest
from reconciler.seasons import format_seasons

__all__ = ["REAL_LAKE_CONFIG", "sandbox_preamble"]

#: The repository's config, whose ``aws`` profile is the real lake.
REAL_LAKE_CONFIG = "config.yaml"


def _build_command(directory: str, s: dict[str, Any]) -> str:
    words = ["reconcile", "sandbox", "init", directory]
    if s["twin"]:
        words += ["--twin", "--scale", str(float(s["scale"]))]
        if tuple(s["seasons"]) != tuple(range(2010, 2027)):
            words += ["--seasons", format_seasons(list(s["seasons"]))]
    else:
        words += ["--seasons", format_seasons(list(s["seasons"])), "--scale", f"{s['scale']:g}"]
        if s["writer"] != "default":
            words += ["--writer", s["writer"]]
    if s["seed"] != 7:
        words += ["--seed", str(s["seed"])]
    return shlex.join(words)


def _short_seasons(manifest_twin: dict[str, Any]) -> str:
    short = [int(k) for k, v in manifest_twin.get("seasons", {}).items() if v.get("short")]
    return format_seasons(sorted(short)) if short else "none"


def sandbox_preamble(prof: Profile, config: Path, command: str, seasons: tuple[int, ...]) -> list[str]:
    """The report's opening lines when the lake is a sandbox or the twin; none for a real lake.

    Args:
        prof: The profile audited.
        config: ``--config`` as given (its directory names the sandbox in the commands shown).
        command: The audit's own command line.
        seasons: The seasons audited.

    Returns:
        Markdown lines (a block quote), or ``[]`` when the config is not a sandbox's.
    """
    try:
        s = sandbox_settings(prof.config_file)
    except ConfigError:
        return []
    directory = str(config.parent) if str(config.parent) not in ("", ".") else "."
    build = _build_command(directory, s)
    real = shlex.join(
        ["reconcile", "audit", "--config", REAL_LAKE_CONFIG, "--profile", "aws", "--seasons", format_seasons(seasons)]
    )
    if not s["twin"]:
        return [
            f"> **This report audits a sandbox, not the real lake**: a synthetic lake with injected gaps, built "
            f"with `{build}` and audited with `{command}`. The same report for the real lake `hoops-edge`: "
            f"`{real}`.",
        ]
    try:
        twin = load_manifest(s["manifest"]).twin
    except LakeError:
        twin = {}
    ref = twin.get("reference_plays_per_game", "the median")
    return [
        "> **This report audits the twin of the real lake, not `hoops-edge` itself.** The twin is a synthetic lake "
        "written the way cbbd_etl writes the real one (one object per API call, per-batch Parquet types, plays under "
        "`date=`, `asof=` and consolidated layouts, `plays_date` files under the calendar year, the known duplicates, "
        "a catalog that lags storage) and shaped by the real lake's audit (`season_scale.csv`, cbbd_etl "
        "`reports/full_data_audit.md` of 2026-02-22): its games per season, and its plays rows per season, which "
        f"put games without plays into the seasons whose plays per game fall below 90% of the median ({ref}): "
        f"{_short_seasons(twin)}; substitutions only in 2024 and lineups only in 2025, collapsed to one row per game "
        "as cbbd_etl's key bug left them; `fct_games` 2024 only under `asof=`. Which games lack plays is a seeded "
        "draw (the audit gives how many, not which). Its gaps are priced from the plan `reconcile plan` computes (no "
        "API call is made); the CBBD simulator serves the same synthetic universe, so that plan can be applied. The "
        "derivation, season by season, is in the twin's `manifest.json` (`twin`).",
        ">",
        f"> Built with `{build}` (seed {s['seed']}) and audited with `{command}`.",
        ">",
        f"> **The same report for the real lake:** `{real}` (the repository's `config.yaml`; AWS credentials that "
        "can read `hoops-edge`, its Glue databases and the checkpoint table).",
    ]
