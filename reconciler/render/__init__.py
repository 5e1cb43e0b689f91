"""Renderers: the plan as text (rich), Markdown (pull-request comments) and JSON."""
