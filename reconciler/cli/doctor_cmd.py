"""``reconcile doctor``: check the AWS permissions and resources a profile needs, one line per missing one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from reconciler.cli.common import ConfigOpt, DebugOpt, ProfileOpt, console, guarded, load

__all__ = ["doctor_cmd"]

_STYLE = {"missing": "red", "unchecked": "yellow", "problem": "red", "info": ""}


def doctor_cmd(
    config: ConfigOpt = Path("config.yaml"),
    profile: ProfileOpt = None,
    policy: Annotated[
        bool,
        typer.Option("--policy", help="Print the least-privilege IAM policy for this profile (JSON) and exit."),
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Check that the profile's AWS identity holds every permission its commands need, and its resources exist.

    Uses iam:SimulatePrincipalPolicy where the identity may, otherwise read-only probes (writes
    that change nothing). Exit 1 when a permission or resource is missing.
    """
    from reconciler.adapters.factory import open_backends, uses_aws
    from reconciler.doctor import profile_policy, run_doctor

    with guarded(debug):
        prof = load(config, profile)
        con = console()
        if policy:
            con.print(escape(json.dumps(profile_policy(prof), indent=2)), highlight=False)
            return
        if not uses_aws(prof):
            con.print(f"Profile {prof.name} uses no AWS service: nothing to check.")
            return
        backends = open_backends(prof)
        try:
            report = run_doctor(prof, backends)
        finally:
            backends.close()
        for style, text in report.lines():
            con.print(f"[{style}]{escape(text)}[/{style}]" if style else escape(text), highlight=False)
        missing, problems = len(report.missing), len(report.problems)
        if missing or problems:
            con.print(
                f"[red]{missing} permission(s) missing, {problems} resource problem(s).[/red] The policy: "
                "docs/iam-policy.json, or `reconcile doctor --policy` for this profile's names."
            )
            raise typer.Exit(1)
        unchecked = f" ({len(report.unchecked)} not checked: see above)" if report.unchecked else ""
        con.print(f"[green]All {len(report.verdicts)} permission(s) present{unchecked}; resources exist.[/green]")
