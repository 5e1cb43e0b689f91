"""``validate``, ``sandbox init``, ``sim serve``, ``locks list`` and ``force-unlock``."""

from __future__ import annotations

import errno
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from reconciler.cli.common import (
    ConfigOpt,
    DebugOpt,
    ProfileOpt,
    StatsOpt,
    config_args,
    console,
    err_console,
    guarded,
    hint,
    load,
)
from reconciler.config import Profile
from reconciler.core.addresses import waiver_problems
from reconciler.errors import InputError, ReconcilerError
from reconciler.seasons import format_seasons, parse_seasons
from reconciler.spec.loader import collect_problems, load_waivers
from reconciler.spec.models import Spec

__all__ = ["force_unlock_cmd", "locks_list_cmd", "sandbox_init_cmd", "sim_serve_cmd", "validate_cmd"]


def validate_cmd(
    config: ConfigOpt = Path("config.yaml"),
    profile: ProfileOpt = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not run the source queries against the profile's lake.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Check the config, every spec and the waivers; print one line per problem (file, line, field).

    Each spec's source query is run once against the profile's lake with ``LIMIT 0`` (no rows
    read), to check that it runs and returns the unit columns, ``season`` and ``date``.
    """
    with guarded(debug):
        prof = load(config, profile)
        specs, problems = collect_problems(prof.specs_dir)
        found: list[str] = [str(p) for p in problems]
        warnings: list[str] = []
        try:
            waivers = load_waivers(prof.waivers)
        except InputError as exc:
            found.append(str(exc))
            waivers = []
        bad, warned = waiver_problems(waivers, specs, datetime.now(UTC).date())
        found.extend(bad)
        warnings.extend(warned)
        checked = ""
        if not problems and not offline:
            found.extend(_source_problems(prof, specs))
            checked = ", source queries checked against the lake"
        err = err_console()
        for w in warnings:
            err.print(f"[yellow]Warning:[/yellow] {escape(w)}", highlight=False)
        if found:
            for p in found:
                err.print(f"[red]Error:[/red] {escape(p)}", highlight=False)
            err.print(f"{len(found)} problem(s) found.")
            raise typer.Exit(1)
        console().print(
            f"[green]Valid.[/green] {len(specs)} specs ({', '.join(s.name for s in specs)}), "
            f"profile {escape(prof.name)}{checked}."
        )


def _source_problems(prof: Profile, specs: list[Spec]) -> list[str]:
    """Run each spec's source query against the profile's lake (``LIMIT 0``); one line per problem."""
    from reconciler.adapters.factory import open_backends
    from reconciler.observe.sources import source_problems

    try:
        backends = open_backends(prof)
    except ReconcilerError as exc:
        return [f"cannot check the source queries on profile {prof.name}: {exc} (--offline skips them)"]
    try:
        backends.preflight()
        first = parse_seasons(prof.seasons)[0]
        return [str(p) for p in source_problems(backends.engine, specs, first)]
    except ReconcilerError as exc:
        return [f"cannot check the source queries on profile {prof.name}: {exc} (--offline skips them)"]
    finally:
        backends.close()


def sandbox_init_cmd(
    directory: Annotated[Path, typer.Argument(help="Where to write the sandbox (lake, config.yaml, manifest.json).")],
    seasons: Annotated[str, typer.Option("--seasons", help="Seasons to generate.")] = "2010-2026",
    scale: Annotated[
        float | None,
        typer.Option("--scale", help="1.0 = real per-season counts (~101k games). Default 0.02; 1.0 with --twin."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same lake.")] = 7,
    api_port: Annotated[int, typer.Option("--api-port", help="Port of the simulator the config points at.")] = 8787,
    drift: Annotated[bool, typer.Option("--drift", help="Inject partition and layout drift too.")] = False,
    complete: Annotated[
        bool,
        typer.Option(
            "--complete",
            help="Inject no gaps: a filled lake, with the empty checkpoints its applies left "
            "(the steady state a nightly plan sees).",
        ),
    ] = False,
    writer: Annotated[
        str | None,
        typer.Option(
            "--writer",
            help="default: our declared schemas and layout; pipeline: every object as cbbd_etl writes it "
            "(per-batch types, mixed layouts, duplicates, a lagging catalog). Same universe, same gaps. "
            "Default: default (pipeline with --twin).",
        ),
    ] = None,
    twin: Annotated[
        bool,
        typer.Option(
            "--twin",
            help="The twin of the real lake hoops-edge: written the pipeline's way, with its audited games, "
            "plays, substitutions (2024) and lineups (2025) per season; --scale below 1 shrinks it.",
        ),
    ] = False,
    into_config: Annotated[
        Path | None, typer.Option("--into-config", help="Also publish the lake into a profile of this config file.")
    ] = None,
    into_profile: Annotated[
        str | None, typer.Option("--into-profile", help="The profile to publish into (e.g. S3 + Glue).")
    ] = None,
    stats: StatsOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Write a synthetic lake in the cbbd_etl layout with known gaps, and a config for it."""
    from reconciler.cli.sandbox_publish import check_target, publish_new_sandbox
    from reconciler.sandbox import init_sandbox

    with guarded(debug):
        seas = parse_seasons(seasons)
        scale, writer = _init_args(directory, scale, writer, twin, api_port)
        target, calls = check_target(into_config, into_profile)
        _make_directory(directory)
        con = console()
        t0 = time.monotonic()
        manifest = init_sandbox(
            directory,
            seasons=seas,
            scale=scale,
            seed=seed,
            api_port=api_port,
            drift=drift,
            writer=writer,
            complete=complete,
            twin=twin,
        )
        con.print(
            f"[green]Sandbox written[/green] to {directory} in {time.monotonic() - t0:.1f} s: "
            + ", ".join(
                f"{name}: {t.totals.get('missing', 0):,} of {t.totals.get('expected', 0):,} units "
                + ("the API lacks, checkpointed empty" if complete else "missing")
                for name, t in manifest.targets.items()
            )
        )
        if target is not None:
            publish_new_sandbox(directory, target, con, calls, stats=stats)
        cfg = str(directory / "config.yaml")
        serve = shlex.join(["reconcile", "sim", "serve", "--config", cfg])
        plan = shlex.join(["reconcile", "plan", "--config", cfg, "--seasons", format_seasons(seas)])
        con.print(f"[dim]Next: {escape(serve)} &  then  {escape(plan)}[/dim]")


def _init_args(
    directory: Path, scale: float | None, writer: str | None, twin: bool, api_port: int
) -> tuple[float, str]:
    """``sandbox init``'s scale and writer, defaults filled in, after checking its arguments and directory."""
    if scale is None:
        scale = 1.0 if twin else 0.02
    if not 0 < scale <= 2:
        raise InputError(f"--scale: {scale} must be in (0, 2]")
    if twin and scale > 1:
        raise InputError(f"--scale: {scale} must be in (0, 1] with --twin (the twin is at most the real lake)")
    if twin and writer == "default":
        raise InputError("--twin: the twin is written the pipeline's way; drop --writer default")
    if not 1 <= api_port <= 65535:
        raise InputError(f"--api-port: {api_port} is not a TCP port (1-65535)")
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory}: exists and is not a directory; choose a new directory")
    if directory.exists() and any(directory.iterdir()):
        raise InputError(f"{directory}: not empty; choose a new directory (the sandbox never overwrites)")
    return scale, writer or ("pipeline" if twin else "default")


def _make_directory(directory: Path) -> None:
    """Create the sandbox directory, or say in one line why it cannot be created or written."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{directory}: cannot create the sandbox directory ({exc.strerror or exc})") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(f"{directory}: cannot write the sandbox directory (permission denied)")


def _fault_rates(values: list[str] | None) -> dict[str, float]:
    from reconciler.sim.faults import parse_fault_rates

    try:
        return parse_fault_rates(values or [])
    except ValueError as exc:
        raise InputError(str(exc)) from None


def sim_serve_cmd(
    config: ConfigOpt = Path("config.yaml"),
    profile: ProfileOpt = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default: the config's API URL).")] = None,
    latency_ms: Annotated[int, typer.Option("--latency-ms", help="Added latency per response.")] = 0,
    fault_rate: Annotated[
        list[str] | None, typer.Option("--fault-rate", help="KIND=P, e.g. 5xx=0.1 (repeatable).")
    ] = None,
    quota: Annotated[int | None, typer.Option("--quota", help="Monthly call quota (default unlimited).")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="Require this bearer token.")] = None,
    request_log: Annotated[Path | None, typer.Option("--request-log", help="JSON Lines request log.")] = None,
    seed: Annotated[int, typer.Option("--fault-seed", help="Seed of the fault RNG.")] = 0,
    debug: DebugOpt = False,
) -> None:
    """Serve the CBBD API simulator for a sandbox on loopback."""
    from urllib.parse import urlparse

    from reconciler.sandbox import load_universe_from_config
    from reconciler.sim.server import SimServer

    with guarded(debug):
        if quota is not None and quota < 0:
            raise InputError(f"--quota: {quota} is negative (the monthly calls available, 0 or more)")
        if latency_ms < 0:
            raise InputError(f"--latency-ms: {latency_ms} is negative")
        if port is not None and not 0 <= port <= 65535:
            raise InputError(f"--port: {port} is not a TCP port (0-65535)")
        rates = _fault_rates(fault_rate)
        prof = load(config, profile)
        url = urlparse(prof.api.base_url)
        if url.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise InputError(f"{config}: api.base_url {prof.api.base_url} is not a loopback address")
        universe = load_universe_from_config(config)
        host = url.hostname or "127.0.0.1"
        bind_port = port if port is not None else (url.port or 8787)
        try:
            server = SimServer(
                universe,
                host=host,
                port=bind_port,
                api_key=api_key,
                quota=quota,
                fault_rates=rates,
                latency_ms=latency_ms,
                request_log=request_log,
                seed=seed,
            )
        except ValueError as exc:
            raise InputError(str(exc)) from None
        try:
            server.start()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(
                    f"{host}:{bind_port} is already in use (another simulator?); stop it, or pass --port "
                    f"and point api.base_url of {config} at that port"
                ) from None
            where = f"{exc.filename}: " if exc.filename else f"{host}:{bind_port}: "
            raise InputError(f"{where}{exc.strerror or exc}") from None
        err_console().print(f"CBBD simulator on {server.url} (Ctrl-C to stop)")
        sys.stderr.flush()

        def _term(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, _term)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()


#: The wall clock ``locks list`` reads ages and expiries from (tests fix it).
clock: Callable[[], float] = time.time


def locks_list_cmd(
    config: ConfigOpt = Path("config.yaml"), profile: ProfileOpt = None, debug: DebugOpt = False
) -> None:
    """List apply locks with their age and owner."""
    import socket

    from reconciler.adapters.factory import open_backends
    from reconciler.apply.lake_lock import LakeLocks
    from reconciler.apply.locks import process_alive

    with guarded(debug):
        b = open_backends(load(config, profile))
        try:
            locks = LakeLocks(b.store).list_locks()
        finally:
            b.close()
        con = console()
        if not locks:
            con.print("No locks.")
            return
        tab = Table(show_edge=False, header_style="bold")
        for c in ("lock", "owner", "host", "pid", "command", "age", "expires in", "state"):
            tab.add_column(c)
        now = clock()
        host = socket.gethostname()
        for lk in locks:
            state = "expired" if lk.expires_at < now else "held"
            if lk.host == host and not process_alive(lk.pid):
                state = "dead (its process is gone; the next apply takes it over)"
            tab.add_row(
                lk.lock_id,
                lk.owner[:8],
                lk.host,
                str(lk.pid),
                lk.command,
                f"{now - lk.created_at:.0f} s",
                f"{lk.expires_at - now:.0f} s",
                state,
            )
        con.print(tab)


def force_unlock_cmd(
    lock_id: Annotated[str, typer.Argument(help="The lock to break (see `reconcile locks list`).")],
    config: ConfigOpt = Path("config.yaml"),
    profile: ProfileOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "--auto-approve", help="Do not ask.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Break an apply lock after confirmation."""
    from reconciler.adapters.factory import open_backends
    from reconciler.apply.lake_lock import LakeLocks

    with guarded(debug):
        b = open_backends(load(config, profile))
        try:
            lake = LakeLocks(b.store)
            held = [lk for lk in lake.list_locks() if lk.lock_id == lock_id]
            if not held:
                raise InputError(
                    f"no lock {lock_id!r} (see `{hint('locks', 'list', args=config_args(config, profile))}`)"
                )
            lk = held[0]
            con = console()
            if not yes:
                if not sys.stdin.isatty():
                    raise InputError("force-unlock needs confirmation: run it in a terminal or pass --yes")
                con.print(f"Break lock {lock_id!r} held by {lk.owner[:8]} ({lk.command!r} on {lk.host})? y/N ", end="")
                if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                    con.print("Not unlocked.")
                    return
            lake.release_lock(lock_id, None)
            con.print(f"Unlocked {lock_id}.")
        finally:
            b.close()
