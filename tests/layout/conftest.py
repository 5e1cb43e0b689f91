"""The moto fixtures of the adapter tests, for the layout tests against S3 and Glue."""

from __future__ import annotations

from tests.adapters.conftest import _moto_server, _setup_clients, aws_env, boto_session, moto_url

__all__ = ["_moto_server", "_setup_clients", "aws_env", "boto_session", "moto_url"]
