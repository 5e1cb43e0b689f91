"""Commands printed inside messages, with the ``--config``/``--profile`` the running command was given.

An AWS error deep in an adapter says "`reconcile doctor` lists every missing permission"; pasted
as printed, that checks the default profile, not the one that failed. The CLI notes the options
of the command it runs (:func:`set_command_args`, when it loads the profile) and clears them when
the command ends; messages build their commands with :func:`command`. A plain module variable,
not a context variable: adapters raise from worker threads too, and one process runs one command.
"""

from __future__ import annotations

import shlex

__all__ = ["command", "set_command_args"]

_ARGS: tuple[str, ...] = ()


def set_command_args(args: tuple[str, ...]) -> None:
    """Note the options every printed command needs (``("--config", "aws.yaml")``; ``()`` clears them).

    Args:
        args: The ``--config``/``--profile`` options of the running command.
    """
    global _ARGS
    _ARGS = tuple(args)


def command(*words: str) -> str:
    """A command line to paste: ``reconcile <words>`` plus the running command's options.

    Args:
        *words: The command and its arguments (``doctor``).

    Returns:
        e.g. ``reconcile doctor --config aws.yaml --profile aws``.
    """
    return shlex.join(["reconcile", *words, *_ARGS])
