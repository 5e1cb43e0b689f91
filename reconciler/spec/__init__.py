"""The spec language: YAML files in ``specs/`` declaring each target's expected coverage."""

from reconciler.spec.loader import load_specs, load_waivers
from reconciler.spec.models import FetchStrategy, Spec, Waiver

__all__ = ["FetchStrategy", "Spec", "Waiver", "load_specs", "load_waivers"]
