"""Edits of config and spec texts in tests that fail when they change nothing.

A test that edits a config with ``str.replace`` or ``re.sub`` and finds nothing to change would
silently test the unedited file; these helpers raise instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["replaced", "subbed"]


def replaced(text: str, old: str, new: str, count: int = -1) -> str:
    """``text.replace(old, new, count)``, asserting that ``old`` occurs in ``text``."""
    assert old in text, f"nothing to replace: {old!r} is not in the text"
    return text.replace(old, new, count)


def subbed(pattern: str, repl: str | Callable[[re.Match[str]], str], text: str, count: int = 0) -> str:
    """``re.sub(pattern, repl, text, count)``, asserting that the pattern matched at least once."""
    new, n = re.subn(pattern, repl, text, count=count)
    assert n, f"nothing to substitute: {pattern!r} does not match the text"
    return new
