"""Observation: read the lake, the catalog and the state (read-only) into an ObservedState."""
