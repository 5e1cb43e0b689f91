"""Reading a saved plan file (``reconcile plan -out``), for ``apply`` and ``show``."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from reconciler.core.plan import Plan, check_digest
from reconciler.errors import InputError, StalePlan

__all__ = ["load_plan_file"]


def load_plan_file(path: Path) -> Plan:
    """Read a saved plan.

    Args:
        path: The plan file.

    Returns:
        The plan.

    Raises:
        InputError: If the file is missing or not a plan.
        StalePlan: If its format version is not supported.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: plan file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a plan file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the plan file ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a JSON plan file ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a plan file (a JSON {type(data).__name__}, not an object with format_version 1)")
    if data.get("format_version") != 1:
        raise StalePlan(f"{path}: unsupported plan format_version {data.get('format_version')!r}")
    check_digest(data, str(path))
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f"; {exc.error_count() - 1} more" if exc.error_count() > 1 else ""
        raise InputError(f"{path}: not a valid plan file ({where}: {first['msg']}{more})") from None
    except ValueError as exc:
        raise InputError(f"{path}: not a valid plan file ({str(exc).splitlines()[0]})") from None
