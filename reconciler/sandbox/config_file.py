"""The sandbox's ``config.yaml`` (a ``local`` profile plus a ``sandbox:`` section) and reading it back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from reconciler.config import Profile
from reconciler.errors import ConfigError, InputError
from reconciler.seasons import format_seasons, parse_seasons
from reconciler.synth.universe import Universe

__all__ = ["SANDBOX_TIMEOUT_SECONDS", "load_universe_from_config", "sandbox_settings", "write_config"]

SANDBOX_TIMEOUT_SECONDS = 10
_HEADER = """\
# A sandbox lake written by `reconcile sandbox init` (cbbd-reconciler): a synthetic lake in the
# cbbd_etl layout under lake/, with the gaps listed in manifest.json. Serve its API with
#   reconcile sim serve --config <this directory>/config.yaml
# The `sandbox:` section lets the simulator rebuild the same synthetic universe.
"""


def write_config(
    dest: Path,
    *,
    seed: int,
    scale: float,
    seasons: tuple[int, ...],
    api_port: int,
    waivers: bool = False,
    writer: str = "default",
    twin: bool = False,
) -> Path:
    """Write ``dest/config.yaml``.

    Args:
        dest: The sandbox directory.
        seed: Universe seed.
        scale: Universe scale.
        seasons: Universe seasons.
        api_port: The simulator's port on 127.0.0.1.
        waivers: Whether ``specs/waivers.yaml`` exists (then the profile points at it).
        writer: The lake's writer; recorded in ``sandbox:`` unless it is the default one (the
            simulator serves the same universe whichever wrote the lake).
        twin: The sandbox is the twin of the real lake: recorded as ``twin: true`` (the simulator
            then serves the twin's universe).

    Returns:
        The file written.
    """
    profile: dict[str, Any] = {"specs_dir": "specs"}
    if waivers:
        profile["waivers"] = "specs/waivers.yaml"
    profile.update(
        {
            "store": {"kind": "local", "path": "lake"},
            "engine": {"kind": "duckdb"},
            "catalog": {"kind": "local"},
            "state": {"kind": "sqlite", "path": ".reconcile/state.sqlite"},
            "api": {
                "base_url": f"http://127.0.0.1:{api_port}",
                "rate_limit_per_sec": 3,
                "max_concurrency": 3,
                "timeout_seconds": SANDBOX_TIMEOUT_SECONDS,
                "retry": {"max_attempts": 5, "base_delay_seconds": 0.5, "max_delay_seconds": 8},
            },
        }
    )
    doc: dict[str, Any] = {
        "default_profile": "local",
        "profiles": {"local": profile},
        "sandbox": {
            "seed": int(seed),
            "scale": float(scale),
            "seasons": format_seasons(list(seasons)),
            "api_port": int(api_port),
            "manifest": "manifest.json",
        },
    }
    if writer != "default":
        doc["sandbox"]["writer"] = writer
    if twin:
        doc["sandbox"]["twin"] = True
    path = dest / "config.yaml"
    body = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)
    path.write_text(_HEADER + body, encoding="utf-8")
    return path


def sandbox_settings(config_file: str | Path) -> dict[str, Any]:
    """Read the ``sandbox:`` section of a sandbox's config file.

    Args:
        config_file: ``DIR/config.yaml``.

    Returns:
        ``seed`` (int), ``scale`` (float), ``seasons`` (tuple of ints), ``api_port`` (int),
        ``manifest`` (absolute path), ``writer`` (``default`` or ``pipeline``) and ``twin`` (bool).

    Raises:
        ConfigError: If the file is missing, is not YAML, or has no valid ``sandbox:`` section.
    """
    path = Path(config_file)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    sec = data.get("sandbox") if isinstance(data, dict) else None
    if not isinstance(sec, dict):
        raise ConfigError(f"{path}: no `sandbox:` section (was it written by `reconcile sandbox init`?)")
    try:
        seasons = sec["seasons"]
        parsed = parse_seasons(seasons) if isinstance(seasons, str) else tuple(sorted({int(s) for s in seasons}))
        return {
            "seed": int(sec["seed"]),
            "scale": float(sec["scale"]),
            "seasons": parsed,
            "api_port": int(sec.get("api_port", 8787)),
            "manifest": str((path.resolve().parent / str(sec.get("manifest", "manifest.json"))).resolve()),
            "writer": str(sec.get("writer", "default")),
            "twin": _flag(sec.get("twin", False)),
        }
    except (KeyError, TypeError, ValueError, InputError) as exc:
        raise ConfigError(f"{path}: sandbox: invalid section ({exc})") from None


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"twin: {value!r} is not true or false")
    return value


def load_universe_from_config(profile_or_config_path: Profile | str | Path) -> Universe:
    """Rebuild a sandbox's universe from its config (what ``reconcile sim serve`` serves).

    Args:
        profile_or_config_path: A loaded profile (its ``config_file`` is read) or the path of the
            sandbox's ``config.yaml``.

    Returns:
        The universe with the sandbox's seed, scale and seasons (the twin's, for a twin).

    Raises:
        ConfigError: If the config has no valid ``sandbox:`` section.
    """
    path = profile_or_config_path.config_file if isinstance(profile_or_config_path, Profile) else profile_or_config_path
    s = sandbox_settings(path)
    try:
        return Universe(s["seed"], s["scale"], s["seasons"], twin=s["twin"])
    except ValueError as exc:
        raise ConfigError(f"{path}: sandbox: {exc}") from None


@contextmanager
def serve_sandbox(config_file: Path, port: int, data: Any = None, **kw: Any) -> Iterator[Any]:
    """Serve a sandbox's API (its universe, or ``data``) with the simulator in a background thread.

    Args:
        config_file: The sandbox's ``config.yaml``.
        port: The loopback port (the one its API URL names).
        data: Other API data to serve instead of the sandbox's universe.
        **kw: Further :class:`reconciler.sim.server.SimServer` options (faults, quota, request log).

    Yields:
        The running server.
    """
    from reconciler.sim.server import SimServer

    server = SimServer(data if data is not None else load_universe_from_config(config_file), port=port, **kw)
    server.start()
    try:
        yield server
    finally:
        server.stop()
