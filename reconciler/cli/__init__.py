"""The ``reconcile`` command line (typer). Presentation only: the work is in reconciler.service."""
