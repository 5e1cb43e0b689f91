"""The ``reconcile`` command."""

from __future__ import annotations

import typer

from reconciler.cli.audit_cmd import audit_cmd
from reconciler.cli.doctor_cmd import doctor_cmd
from reconciler.cli.misc_cmds import force_unlock_cmd, locks_list_cmd, sandbox_init_cmd, sim_serve_cmd, validate_cmd
from reconciler.cli.plan_cmds import apply_cmd, plan_cmd
from reconciler.cli.show_cmd import show_cmd

__all__ = ["app", "main"]

app = typer.Typer(
    name="reconcile",
    help="Plan and apply reconciliation of the cbbd_etl college-basketball lake.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("validate")(validate_cmd)
app.command("plan")(plan_cmd)
app.command("apply")(apply_cmd)
app.command("audit")(audit_cmd)
app.command("show")(show_cmd)
app.command("doctor")(doctor_cmd)

sandbox = typer.Typer(help="Synthetic lakes for demos and tests.", no_args_is_help=True)
sandbox.command("init")(sandbox_init_cmd)
app.add_typer(sandbox, name="sandbox")

sim = typer.Typer(help="The CBBD API simulator.", no_args_is_help=True)
sim.command("serve")(sim_serve_cmd)
app.add_typer(sim, name="sim")

locks = typer.Typer(help="Apply locks.", no_args_is_help=True)
locks.command("list")(locks_list_cmd)
app.add_typer(locks, name="locks")
app.command("force-unlock")(force_unlock_cmd)


def main() -> None:
    """Entry point of the ``reconcile`` script."""
    app()


if __name__ == "__main__":
    main()
