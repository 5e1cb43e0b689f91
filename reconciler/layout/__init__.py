"""Partition and layout consistency: observe storage and the catalog, repair drift safely.

* :mod:`reconciler.layout.tables`: the tables the specs name and their declared layouts.
* :mod:`reconciler.layout.observe`: the read-only observation (footers, catalog, duplicates).
* :mod:`reconciler.layout.execute`: the relayout, dedupe, register and delete handlers.
* :mod:`reconciler.layout.catalog_ops`: registering partitions and cataloguing a lake.

The planning itself is pure: :mod:`reconciler.core.layout_planner`.
"""
