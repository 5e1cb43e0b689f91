"""``validate``, ``sandbox init``, ``sim serve``, ``locks list`` and ``force-unlock``."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from reconciler.cli.common import ConfigOpt, DebugOpt, ProfileOpt, StatsOpt, console, err_console, guarded, load
from reconciler.errors import InputError
from reconciler.seasons import parse_seasons
from reconciler.spec.loader import collect_problems, load_waivers

__all__ = ["force_unlock_cmd", "locks_list_cmd", "sandbox_init_cmd", "sim_serve_cmd", "validate_cmd"]


def validate_cmd(config: ConfigOpt = Path("config.yaml"), profile: ProfileOpt = None, debug: DebugOpt = False) -> None:
    """Check the config and every spec; print one line per problem (file, line, field)."""
    with guarded(debug):
        prof = load(config, profile)
        specs, problems = collect_problems(prof.specs_dir)
        try:
            load_waivers(prof.waivers)
        except InputError as exc:
            problems.append(exc)  # type: ignore[arg-type]
        con = console()
        if problems:
            err = err_console()
            for p in problems:
                err.print(f"[red]Error:[/red] {p}", highlight=False)
            err.print(f"{len(problems)} problem(s) found.")
            raise typer.Exit(1)
        con.print(
            f"[green]Valid.[/green] {len(specs)} specs ({', '.join(s.name for s in specs)}), profile {prof.name}."
        )


def sandbox_init_cmd(
    directory: Annotated[Path, typer.Argument(help="Where to write the sandbox (lake, config.yaml, manifest.json).")],
    seasons: Annotated[str, typer.Option("--seasons", help="Seasons to generate.")] = "2010-2026",
    scale: Annotated[float, typer.Option("--scale", help="1.0 = real per-season counts (~101k games).")] = 0.02,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same lake.")] = 7,
    api_port: Annotated[int, typer.Option("--api-port", help="Port of the simulator the config points at.")] = 8787,
    drift: Annotated[bool, typer.Option("--drift", help="Inject partition and layout drift too.")] = False,
    writer: Annotated[
        str,
        typer.Option(
            "--writer",
            help="default: our declared schemas and layout; pipeline: every object as cbbd_etl writes it "
            "(per-batch types, mixed layouts, duplicates, a lagging catalog). Same universe, same gaps.",
        ),
    ] = "default",
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
        if not 0 < scale <= 2:
            raise InputError(f"--scale: {scale} must be in (0, 2]")
        if directory.exists() and any(directory.iterdir()):
            raise InputError(f"{directory}: not empty; choose a new directory (the sandbox never overwrites)")
        target, calls = check_target(into_config, into_profile)
        con = console()
        t0 = time.monotonic()
        manifest = init_sandbox(
            directory, seasons=seas, scale=scale, seed=seed, api_port=api_port, drift=drift, writer=writer
        )
        con.print(
            f"[green]Sandbox written[/green] to {directory} in {time.monotonic() - t0:.1f} s: "
            + ", ".join(
                f"{name}: {t.totals.get('missing', 0):,} of {t.totals.get('expected', 0):,} units missing"
                for name, t in manifest.targets.items()
            )
        )
        if target is not None:
            publish_new_sandbox(directory, target, con, calls, stats=stats)
        con.print(
            f"[dim]Next: reconcile sim serve --config {directory}/config.yaml &  then  "
            f"reconcile plan --config {directory}/config.yaml[/dim]"
        )


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
        prof = load(config, profile)
        url = urlparse(prof.api.base_url)
        if url.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise InputError(f"{config}: api.base_url {prof.api.base_url} is not a loopback address")
        universe = load_universe_from_config(config)
        server = SimServer(
            universe,
            host=url.hostname or "127.0.0.1",
            port=port if port is not None else (url.port or 8787),
            api_key=api_key,
            quota=quota,
            fault_rates=_fault_rates(fault_rate),
            latency_ms=latency_ms,
            request_log=request_log,
            seed=seed,
        )
        server.start()
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


def locks_list_cmd(
    config: ConfigOpt = Path("config.yaml"), profile: ProfileOpt = None, debug: DebugOpt = False
) -> None:
    """List apply locks with their age and owner."""
    import socket

    from reconciler.adapters.factory import open_backends
    from reconciler.apply.locks import process_alive

    with guarded(debug):
        b = open_backends(load(config, profile))
        try:
            locks = b.state.list_locks()
        finally:
            b.close()
        con = console()
        if not locks:
            con.print("No locks.")
            return
        tab = Table(show_edge=False, header_style="bold")
        for c in ("lock", "owner", "host", "pid", "command", "age", "expires in", "state"):
            tab.add_column(c)
        now = time.time()
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

    with guarded(debug):
        b = open_backends(load(config, profile))
        try:
            held = [lk for lk in b.state.list_locks() if lk.lock_id == lock_id]
            if not held:
                raise InputError(f"no lock {lock_id!r} (see `reconcile locks list`)")
            lk = held[0]
            con = console()
            if not yes:
                if not sys.stdin.isatty():
                    raise InputError("force-unlock needs confirmation: run it in a terminal or pass --yes")
                con.print(f"Break lock {lock_id!r} held by {lk.owner[:8]} ({lk.command!r} on {lk.host})? y/N ", end="")
                if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                    con.print("Not unlocked.")
                    return
            b.state.release_lock(lock_id, None)
            con.print(f"Unlocked {lock_id}.")
        finally:
            b.close()
