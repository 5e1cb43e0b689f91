"""Apply: execute a plan's actions against the lake, the API and the state store."""
