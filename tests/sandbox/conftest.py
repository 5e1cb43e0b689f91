from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.sandbox import Manifest, init_sandbox
from reconciler.synth import Universe

SEASONS = (2015, 2016, 2024, 2025)
SCALE = 0.01
SEED = 5


@dataclass(frozen=True)
class Sandbox:
    dest: Path
    lake: Path
    manifest: Manifest
    universe: Universe

    @property
    def drift_keys(self) -> set[str]:
        """Keys of the objects the drift injection wrote."""
        from .helpers import drift_keys

        return drift_keys(self.manifest.drift)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    """A small sandbox (with drift) shared by the sandbox tests; read-only."""
    specs = tmp_path_factory.mktemp("specs_src")
    (specs / "plays.yaml").write_text("name: plays\n", encoding="utf-8")
    (specs / "waivers.yaml").write_text("waivers: []\n", encoding="utf-8")
    dest = tmp_path_factory.mktemp("sandbox")
    manifest = init_sandbox(
        dest, seasons=SEASONS, scale=SCALE, seed=SEED, drift=True, specs_source=specs, api_port=8899
    )
    return Sandbox(dest=dest, lake=dest / "lake", manifest=manifest, universe=Universe(SEED, SCALE, SEASONS))
