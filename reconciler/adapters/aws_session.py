"""Building boto3 sessions and clients, with their failures translated and the region resolved.

botocore raises while a session or client is built, not only on calls: ``ProfileNotFound`` for an
unknown ``AWS_PROFILE`` when the session is made, a failing ``credential_process`` when a client
is made (clients resolve credentials then). Both go through
:func:`~reconciler.adapters.aws_errors.translate_aws_errors` here, so they are one line too.

A region set in the profile's section wins. Where the section sets none, ``AWS_REGION``, then
``AWS_DEFAULT_REGION``, then the AWS profile's own ``region`` apply, and the lake's ``us-east-1``
last.

botocore logs a failed credential refresh (an SSO session never started, an assume-role or
``credential_process`` that fails) with its full traceback at WARNING, then raises; the error
reaches the user as one line anyway, so that log is kept out unless debugging
(:func:`quiet_botocore_credentials`).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3

from reconciler.adapters.aws_errors import BOTO_CONFIG, translate_aws_errors

__all__ = ["DEFAULT_REGION", "make_client", "make_session", "quiet_botocore_credentials", "region_of"]

#: The lake's region (cbbd_etl's config), when nothing else names one.
DEFAULT_REGION = "us-east-1"


def region_of(settings: Any, session: boto3.session.Session | None = None) -> str:
    """The region an adapter uses: the profile's, else the environment's or AWS profile's.

    Args:
        settings: A profile section with a ``region`` field (pydantic: whether it was set is known).
        session: A session whose AWS profile may name a region.

    Returns:
        The region.
    """
    explicit = "region" in getattr(settings, "model_fields_set", {"region"})
    if explicit:
        return str(settings.region)
    env = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if env:
        return env
    if session is not None and session.region_name:
        return str(session.region_name)
    return DEFAULT_REGION


def quiet_botocore_credentials() -> None:
    """Keep botocore's failed-refresh logs (a traceback before our one line) out, unless debugging.

    ``botocore.credentials`` logs "Refreshing temporary credentials failed during mandatory refresh
    period" with the exception's traceback, then raises it; :func:`translate_aws_errors` turns it
    into one line. With ``--debug`` (the root logger at DEBUG) its logs stay.
    """
    quiet = not logging.getLogger().isEnabledFor(logging.DEBUG)
    logging.getLogger("botocore.credentials").setLevel(logging.ERROR if quiet else logging.NOTSET)


def make_session(region: str | None = None, what: str = "AWS") -> boto3.session.Session:
    """A boto3 session (honouring ``AWS_PROFILE``), its failures translated.

    Args:
        region: The default region for its clients (None: the environment's or AWS profile's).
        what: The resource it is for, for messages.

    Returns:
        The session.

    Raises:
        BackendError: For an unknown AWS profile, or a broken AWS config file.
    """
    quiet_botocore_credentials()
    with translate_aws_errors(what):
        return boto3.session.Session(region_name=region)


def make_client(
    session: boto3.session.Session | None,
    service: str,
    *,
    region: str,
    endpoint_url: str | None,
    what: str,
) -> Any:
    """A botocore client with the adapters' retry config, its failures translated.

    Args:
        session: The profile's shared session (None: a new one).
        service: ``s3``, ``glue``, ``dynamodb``, ``athena``, ``sts`` or ``iam``.
        region: The region.
        endpoint_url: A compatible endpoint (moto, MinIO); None for AWS.
        what: The resource it is for, for messages.

    Returns:
        The client.

    Raises:
        BackendError: For missing or failing credentials (a ``credential_process`` that exits
            non-zero is found here), or an unknown AWS profile.
    """
    quiet_botocore_credentials()
    with translate_aws_errors(what):
        s = session or boto3.session.Session(region_name=region)
        return s.client(service, region_name=region, endpoint_url=endpoint_url, config=BOTO_CONFIG)
