"""translate_aws_errors: every botocore failure becomes one line that says what to fix."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOTokenLoadError,
    UnauthorizedSSOTokenError,
)

from reconciler.adapters.aws_errors import iam_action, translate_aws_errors
from reconciler.errors import BackendError


def _client_error(code, op, message="details\nmore", status=400, **extra):
    return ClientError(
        {
            "Error": {"Code": code, "Message": message, **extra},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        op,
    )


def _raise(exc, what="s3://hoops-edge/silver/"):
    with pytest.raises(BackendError) as info, translate_aws_errors(what):
        raise exc
    text = str(info.value)
    assert "\n" not in text
    assert isinstance(info.value.__cause__, type(exc))
    return text


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            NoCredentialsError(),
            "no AWS credentials for s3://hoops-edge/silver/: set AWS_PROFILE or AWS_ACCESS_KEY_ID",
        ),
        (
            PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
            "incomplete AWS credentials in env for s3://hoops-edge/silver/: AWS_SECRET_ACCESS_KEY is missing",
        ),
        (
            _client_error("AccessDenied", "ListObjectsV2", status=403),
            "access denied to s3://hoops-edge/silver/: the role needs s3:ListBucket for `reconcile plan`",
        ),
        (
            _client_error("AccessDeniedException", "BatchCreatePartition"),
            "the role needs glue:BatchCreatePartition",
        ),
        (_client_error("AccessDeniedException", "Query"), "the role needs dynamodb:Query"),
        (_client_error("Forbidden", "HeadObject", status=403), "the role needs s3:GetObject"),
        (
            _client_error("NoSuchBucket", "GetObject", status=404, BucketName="hoops-edgy"),
            "S3 bucket hoops-edgy does not exist: check store.bucket",
        ),
        (
            _client_error("ResourceNotFoundException", "Query"),
            "not found (ResourceNotFoundException: details more)",
        ),
        (_client_error("EntityNotFoundException", "GetPartitions"), "not found in the Glue catalog"),
        (_client_error("ThrottlingException", "GetPartitions"), "AWS throttled GetPartitions"),
        (
            _client_error("ProvisionedThroughputExceededException", "BatchWriteItem"),
            "through 1 attempt(s) with backoff: wait a minute and run again",
        ),
        (_client_error("SlowDown", "PutObject", status=503), "AWS throttled PutObject"),
        (
            _client_error("ExpiredToken", "PutObject"),
            "the AWS credentials used for s3://hoops-edge/silver/ have expired",
        ),
        (_client_error("InvalidClientTokenId", "Query"), "AWS does not recognise the access key"),
        (_client_error("SignatureDoesNotMatch", "GetObject", status=403), "the secret key does not match"),
        (
            _client_error("403", "Query", '<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', 403),
            "the role needs dynamodb:Query for `reconcile plan`",
        ),
        (
            ProfileNotFound(profile="hoops"),
            "AWS profile 'hoops' (AWS_PROFILE) is not in ~/.aws/config or ~/.aws/credentials",
        ),
        (
            CredentialRetrievalError(provider="custom-process", error_msg="token expired\n"),
            "the credential_process of the AWS profile failed (token expired): run that command by hand",
        ),
        (SSOTokenLoadError(error_msg="Token for x does not exist"), "run `aws sso login` and run again"),
        (UnauthorizedSSOTokenError(), "the AWS SSO session for s3://hoops-edge/silver/ has expired"),
        (
            EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
            "cannot reach AWS for s3://hoops-edge/silver/",
        ),
        (ReadTimeoutError(endpoint_url="https://s3.amazonaws.com"), "cannot reach AWS"),
        (NoRegionError(), "no AWS region"),
        (
            _client_error("InternalError", "PutObject", status=500),
            "PutObject on s3://hoops-edge/silver/ failed",
        ),
    ],
)
def test_translations(exc, expected):
    assert expected in _raise(exc)


def test_other_exceptions_pass_through():
    with pytest.raises(ValueError, match="mine"), translate_aws_errors("x"):
        raise ValueError("mine")


def test_iam_action_falls_back_to_the_operation():
    assert iam_action("PutItem") == "dynamodb:PutItem"
    assert iam_action("SomethingNew") == "SomethingNew"


def test_a_real_client_without_credentials(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = boto3.session.Session(region_name="us-east-1").client("s3", endpoint_url="http://127.0.0.1:9")
    with (
        pytest.raises(BackendError, match="no AWS credentials for s3://hoops-edge"),
        translate_aws_errors("s3://hoops-edge"),
    ):
        client.list_objects_v2(Bucket="hoops-edge")
