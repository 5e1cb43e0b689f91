"""The service layer: a command's session over a profile's ports, planning and applying through it.

* :mod:`reconciler.service.session`: :class:`Session` (specs, backends, observe and plan);
* :mod:`reconciler.service.apply`: :func:`apply_plan`, the apply's work with no user interface.
"""

from __future__ import annotations

from reconciler.service.session import Session, check_targets, layer_map

__all__ = ["Session", "check_targets", "layer_map"]
