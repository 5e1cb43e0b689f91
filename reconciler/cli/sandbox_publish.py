"""``sandbox init --into-config FILE --into-profile NAME``: publish the new sandbox into a profile."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console

from reconciler.adapters.aws_metrics import format_calls
from reconciler.config import Profile, load_profile
from reconciler.errors import InputError

__all__ = ["check_target", "publish_new_sandbox"]


def _calls(backends: Any) -> Counter[str]:
    calls = getattr(backends, "aws_calls", None)
    return Counter(calls.counts()) if calls is not None else Counter()


def check_target(into_config: Path | None, into_profile: str | None) -> tuple[Profile | None, Counter[str]]:
    """Load the profile to publish into and check its resources, before anything is built.

    Args:
        into_config: ``--into-config``.
        into_profile: ``--into-profile`` (default: that file's default profile).

    Returns:
        The profile (None without ``--into-config``) and the AWS calls the check made.

    Raises:
        InputError: If ``--into-profile`` is given without ``--into-config``.
        BackendError: If the profile's bucket, Glue databases or checkpoint table are missing.
        LakeError: If its catalog already holds a table the sandbox would publish.
    """
    from reconciler.adapters.factory import open_backends

    if into_config is None:
        if into_profile is not None:
            raise InputError("--into-profile needs --into-config (the file that defines the profile)")
        return None, Counter()
    from reconciler.sandbox.publish import refuse_existing_tables, sandbox_table_names

    profile = load_profile(into_config, into_profile)
    b = open_backends(profile)
    try:
        b.preflight()
        dbs = {"bronze": profile.catalog.bronze_database, "silver": profile.catalog.silver_database}
        refuse_existing_tables(b.catalog, sandbox_table_names(dbs), b.store.uri(""))
    finally:
        b.close()
    return profile, _calls(b)


def publish_new_sandbox(
    directory: Path, target: Profile, con: Console, calls: Counter[str], *, stats: bool = False
) -> None:
    """Publish a freshly written sandbox into ``target`` and make that its default profile.

    Args:
        directory: The sandbox directory.
        target: The checked profile from :func:`check_target`.
        con: Where to report.
        calls: AWS calls made so far (the check), added to the ``--stats`` line.
        stats: Print the AWS calls made (stderr).
    """
    from reconciler.adapters.factory import open_backends
    from reconciler.cli.common import err_console
    from reconciler.sandbox.publish import publish_sandbox, write_published_config

    t0 = time.monotonic()
    config_file = directory / "config.yaml"
    local_name = write_published_config(config_file, target.name, target)
    published = load_profile(config_file, target.name)
    b = open_backends(published)
    try:
        result = publish_sandbox(directory / "lake", published, backends=b)
    finally:
        b.close()
    con.print(
        f"[green]Published[/green] to {result.where} in {time.monotonic() - t0:.1f} s: {result.objects:,} objects "
        f"({result.bytes / 1e6:,.1f} MB), {result.tables} catalog tables, {result.partitions:,} partitions. "
        f"Profile [bold]{target.name}[/bold] (the default) reads it; profile {local_name} reads {directory}/lake."
    )
    if stats:
        err_console().print("AWS calls: " + format_calls(calls + _calls(b)), markup=False, highlight=False)
