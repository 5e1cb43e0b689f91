"""The pure core: observed state in, plan out. No I/O; no boto3, httpx, duckdb, sqlite3, rich, typer."""
