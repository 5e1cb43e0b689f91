"""Configuration: ``config.yaml`` with named profiles, each choosing the four backends.

A profile picks, independently, an object store (local directory | S3), a query engine
(DuckDB | Athena), a catalog (local | Glue) and a state store (SQLite | DynamoDB), plus the
API settings. The API key is never read from the file: only from ``CBBD_API_KEY``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reconciler.errors import ConfigError, InputError
from reconciler.seasons import parse_seasons

__all__ = [
    "ApiSettings",
    "CatalogSettings",
    "EngineSettings",
    "Profile",
    "RetrySettings",
    "StateSettings",
    "StoreSettings",
    "load_profile",
]

API_KEY_ENV = "CBBD_API_KEY"
PROFILE_ENV = "RECONCILE_PROFILE"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetrySettings(_Frozen):
    """Retry policy for transient API failures."""

    max_attempts: int = Field(5, ge=1, le=20)
    base_delay_seconds: float = Field(0.5, gt=0)
    max_delay_seconds: float = Field(8.0, gt=0)


class ApiSettings(_Frozen):
    """CBBD API settings: where it is and how hard we may press it."""

    base_url: str = "https://api.collegebasketballdata.com"
    rate_limit_per_sec: int = Field(3, ge=1, le=100)
    max_concurrency: int = Field(3, ge=1, le=100)
    timeout_seconds: float = Field(60.0, gt=0)
    retry: RetrySettings = RetrySettings()
    quota_reserve: int = Field(0, ge=0, description="stop before X-CallLimit-Remaining falls to this")
    monthly_quota: int = Field(
        75_000,
        ge=1,
        description="calls a month the key may make (the audit prices a fill against it); the default assumes "
        "CBBD's Patreon Tier 3 (75,000 calls a month, shared with CollegeFootballData; the free tier has 1,000)",
    )
    pacing_margin_seconds: float = Field(
        0.01, gt=0, le=1, description="added to the 1-s pacing window: a gap against network jitter"
    )

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        url = urlparse(v)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"{v!r} is not an http(s) URL (e.g. https://api.collegebasketballdata.com)")
        try:
            url.port  # noqa: B018 - a port that is not a number raises here
        except ValueError:
            raise ValueError(f"{v!r} has a port that is not a number") from None
        return v


class StoreSettings(_Frozen):
    """Where the lake lives."""

    kind: Literal["local", "s3"] = "local"
    path: str | None = None
    bucket: str | None = None
    region: str = "us-east-1"
    endpoint_url: str | None = None

    @model_validator(mode="after")
    def _check(self) -> StoreSettings:
        if self.kind == "local" and not self.path:
            raise ValueError("store.path is required for a local store")
        if self.kind == "s3" and not self.bucket:
            raise ValueError("store.bucket is required for an s3 store")
        return self


class EngineSettings(_Frozen):
    """The query engine."""

    kind: Literal["duckdb", "athena"] = "duckdb"
    #: DuckDB only: ``files`` reads every object under a table (a full scan); ``catalog`` reads
    #: only the catalog's registered partitions, as Athena does.
    sees: Literal["files", "catalog"] = "files"
    workgroup: str = "cbbd"
    output_location: str | None = None
    region: str = "us-east-1"
    threads: int | None = None
    query_timeout_seconds: float = 600.0
    #: Athena only: how results are read. ``arrow`` reads the result file from S3 in one go
    #: (pyathena's ArrowCursor); ``unload`` has Athena write Parquet (large results); ``pages``
    #: pages through GetQueryResults, 1,000 rows a call.
    results: Literal["arrow", "unload", "pages"] = "arrow"
    #: Athena only: queries run at once (a plan's independent queries run side by side).
    concurrency: int = Field(4, ge=1, le=64)
    #: Athena only: reuse a result of the same query text up to this old (0: never), where the
    #: workgroup allows it (engine version 3).
    result_reuse_minutes: int = Field(60, ge=0, le=10080)


class CatalogSettings(_Frozen):
    """The table catalog."""

    kind: Literal["local", "glue"] = "local"
    bronze_database: str = "cbbd_bronze"
    silver_database: str = "cbbd_silver"
    region: str = "us-east-1"
    endpoint_url: str | None = None
    partition_registration: Literal["batch", "msck"] = "batch"


class StateSettings(_Frozen):
    """Where checkpoints and locks live."""

    kind: Literal["sqlite", "dynamodb"] = "sqlite"
    path: str | None = None
    table: str = "cbbd_checkpoints"
    region: str = "us-east-1"
    endpoint_url: str | None = None
    lock_ttl_seconds: float = Field(120.0, gt=1)

    @model_validator(mode="after")
    def _check(self) -> StateSettings:
        if self.kind == "sqlite" and not self.path:
            raise ValueError("state.path is required for sqlite state")
        return self


#: The lake's layer prefixes, which hold the tables (cbbd_etl's ``s3_layout``).
_TABLE_LAYERS = ("raw", "bronze", "silver", "gold", "ref")


class CacheSettings(_Frozen):
    """The local observation cache (query results and Parquet footers keyed by the files read)."""

    enabled: bool = True
    path: str | None = None
    max_mb: int = Field(256, ge=1)
    #: A key prefix of the lake's store where the cache keeps a copy of its entries for every
    #: machine (a fresh CI runner then reads no footer a plan anywhere has read); None: local only.
    shared: str | None = None

    @model_validator(mode="after")
    def _check(self) -> CacheSettings:
        if self.shared is None:
            return self
        if not self.enabled:
            raise ValueError("cache.shared needs the cache (cache.enabled: true): the shared tier copies it")
        parts = self.shared.rstrip("/").split("/")
        # Every segment a plain name: "./silver", "a//b" or ".." would land somewhere else than written.
        if not self.shared.rstrip("/") or any(p in ("", ".", "..") or p != p.strip() for p in parts):
            raise ValueError(f"cache.shared: {self.shared!r} is not a key prefix (e.g. meta/cbbd-reconciler/cache/)")
        first = parts[0]
        if first.lower() in _TABLE_LAYERS:
            raise ValueError(
                f"cache.shared: {self.shared!r} lies in the lake's {first}/ layer, where readers scan every "
                "object; use a prefix outside the tables (e.g. meta/cbbd-reconciler/cache/)"
            )
        return self


class Profile(_Frozen):
    """One named profile of ``config.yaml``, with relative paths resolved."""

    name: str = "local"
    seasons: str = "2010-2026"
    specs_dir: str = "specs"
    waivers: str | None = None
    reports_dir: str = "reports"
    store: StoreSettings
    engine: EngineSettings = EngineSettings()
    catalog: CatalogSettings = CatalogSettings()
    state: StateSettings
    api: ApiSettings = ApiSettings()
    cache: CacheSettings = CacheSettings()
    config_file: str = ""

    @field_validator("seasons", mode="before")
    @classmethod
    def _seasons_text(cls, v: object) -> object:
        # ``seasons: 2016`` is an int in YAML; a list of seasons is accepted too.
        if isinstance(v, int) and not isinstance(v, bool):
            return str(v)
        if isinstance(v, list) and all(isinstance(x, int) for x in v):
            return ",".join(str(x) for x in v)
        return v

    def api_key(self) -> str | None:
        """The API key from the environment (never from a file).

        A simulator on loopback accepts any bearer token, so a sandbox needs no real key: when
        ``CBBD_API_KEY`` is unset and the API is on a loopback address, a placeholder is sent.

        Returns:
            The key, or None.
        """
        key = os.environ.get(API_KEY_ENV)
        if key:
            return key
        host = urlparse(self.api.base_url).hostname
        return "sandbox" if host in ("127.0.0.1", "localhost", "::1") else None


#: Profile keys people put at the top of the file by mistake (the README once listed them there).
_PROFILE_KEYS = frozenset(Profile.model_fields) - {"name", "config_file"}


class _ConfigFile(_Frozen):
    default_profile: str = "local"
    profiles: dict[str, dict[str, Any]]
    # Written by `reconcile sandbox init` (seed, scale, seasons of the synthetic universe) and read
    # by `reconcile sim serve`; profiles ignore it.
    sandbox: dict[str, Any] | None = None


def _resolve(base: Path, value: str | None) -> str | None:
    if value is None or "://" in value:
        return value
    p = Path(value)
    return str(p if p.is_absolute() else (base / p).resolve())


def load_profile(config_file: str | Path, profile: str | None = None) -> Profile:
    """Load one profile from a config file.

    Args:
        config_file: Path to ``config.yaml``.
        profile: Profile name; defaults to ``RECONCILE_PROFILE`` then the file's ``default_profile``
            (errors name the one that chose it).

    Returns:
        The profile, with relative paths resolved against the config file's directory.

    Raises:
        ConfigError: If the file is missing, malformed, or the profile is unknown or invalid.
    """
    path = Path(config_file)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found (pass --config FILE)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with 'profiles'")
    misplaced = sorted(k for k in data if k in _PROFILE_KEYS)
    if misplaced:
        key = misplaced[0]
        raise ConfigError(f"{path}: {key}: a profile setting; put it under a profile (profiles.<name>.{key})")
    try:
        cfg = _ConfigFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"{path}: {loc}: {err['msg']}") from None
    env = os.environ.get(PROFILE_ENV)
    name = profile or env or cfg.default_profile
    if name not in cfg.profiles:
        known = ", ".join(sorted(cfg.profiles))
        source = "--profile" if profile else (f"${PROFILE_ENV}" if env else "default_profile")
        raise ConfigError(f"{path}: no profile {name!r} (from {source}; profiles: {known})")
    raw = dict(cfg.profiles[name] or {})
    base = path.resolve().parent
    for section in ("store", "state", "cache"):
        sec = dict(raw.get(section) or {})
        if "path" in sec:
            sec["path"] = _resolve(base, sec["path"])
        raw[section] = sec
    for key in ("specs_dir", "waivers", "reports_dir"):
        if key in raw:
            raw[key] = _resolve(base, raw[key])
    raw.setdefault("specs_dir", _resolve(base, "specs"))
    raw.setdefault("reports_dir", _resolve(base, "reports"))
    if "api_key" in raw or "api_key" in (raw.get("api") or {}):
        raise ConfigError(f"{path}: profiles.{name}: the API key is read only from ${API_KEY_ENV}")
    via = f" (profile chosen by ${PROFILE_ENV})" if not profile and env else ""
    try:
        prof = Profile.model_validate({**raw, "name": name, "config_file": str(path.resolve())})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{path}: profiles.{name}.{loc}: {msg}{via}") from None
    try:
        parse_seasons(prof.seasons, f"{path}: profiles.{name}.seasons")
    except InputError as exc:
        raise ConfigError(f"{exc}{via}") from None
    return prof
