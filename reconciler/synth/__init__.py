"""A deterministic synthetic CBBD universe: the data behind the sandbox lake and the API simulator."""

from __future__ import annotations

from reconciler.synth.universe import Universe

__all__ = ["Universe"]
