"""Sandbox lakes: a synthetic cbbd_etl lake with known gaps, its config and its manifest."""

from __future__ import annotations

from reconciler.sandbox.config_file import load_universe_from_config, sandbox_settings, serve_sandbox
from reconciler.sandbox.drift import inject_drift
from reconciler.sandbox.init import DEFAULT_SEASONS, INGEST_DATE, init_sandbox
from reconciler.sandbox.manifest import Manifest, SeasonCoverage, TargetManifest, load_manifest

__all__ = [
    "DEFAULT_SEASONS",
    "INGEST_DATE",
    "Manifest",
    "SeasonCoverage",
    "TargetManifest",
    "init_sandbox",
    "inject_drift",
    "load_manifest",
    "load_universe_from_config",
    "sandbox_settings",
    "serve_sandbox",
]
