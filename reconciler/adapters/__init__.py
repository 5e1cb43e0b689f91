"""Adapters at the edge: the embedded (local, DuckDB, SQLite) and AWS implementations of the ports."""
