"""How the adapters read AWS errors (one helper for every adapter)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from mlops_core.adapters import aws_errors


def refused(code: str, message: str = "", *, status: int = 400, operation: str = "DescribeEndpoint"):
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


@pytest.mark.parametrize(
    "error",
    [
        refused("ValidationException", 'Could not find endpoint "churn-dev".'),
        refused("ValidationException", "Model Package Group churn-prod does not exist."),
        refused("ValidationException", "Model package arn:aws:sagemaker:... not found"),
        refused("ResourceNotFound", "Resource does not exist"),
        refused("ObjectNotFoundException", "No scalable target registered for service namespace"),
        refused("404", status=404, operation="HeadObject"),
        refused("NoSuchKey", "The specified key does not exist.", status=404, operation="GetObject"),
    ],
)
def test_a_missing_resource_is_not_found(error):
    assert aws_errors.is_not_found(error)


@pytest.mark.parametrize(
    "error",
    [
        # SageMaker's ValidationException is also a bad request: only the message says "missing".
        refused("ValidationException", "1 validation error detected: Value 'x' at 'tags' failed"),
        refused("AccessDeniedException", "User is not authorized to perform sagemaker:DeleteEndpoint"),
        refused("ThrottlingException", "Rate exceeded"),
        ValueError("does not exist"),  # not an AWS answer at all
    ],
)
def test_other_refusals_are_not_not_found(error):
    assert not aws_errors.is_not_found(error)


def test_already_exists_and_a_failed_condition_are_told_by_their_answers():
    assert aws_errors.is_already_exists(
        refused("ValidationException", "Cannot create already existing endpoint")
    )
    assert aws_errors.is_already_exists(refused("ResourceInUse", "Model Package Group already exists"))
    assert not aws_errors.is_already_exists(refused("ValidationException", "Could not find model"))
    assert aws_errors.is_condition_failed(
        refused("ConditionalCheckFailedException", "The conditional request")
    )
    assert not aws_errors.is_condition_failed(refused("ValidationException", "ConditionalCheckFailed"))


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (refused("ThrottlingException", "Rate exceeded"), True),
        (refused("SlowDown", "slow", status=503), True),
        (refused("ProvisionedThroughputExceededException", "slow down"), True),
        (refused("SomethingNew", "the service failed", status=502), True),  # any 5xx
        (EndpointConnectionError(endpoint_url="https://sagemaker.us-east-1.amazonaws.com"), True),
        (ReadTimeoutError(endpoint_url="https://s3.amazonaws.com"), True),
        (refused("AccessDenied", "not allowed", status=403), False),
        (refused("ValidationException", "bad request"), False),
        (ValueError("a bug"), False),
    ],
)
def test_retryable_is_throttling_a_service_side_failure_or_the_connection(error, retryable):
    assert aws_errors.is_retryable(error) is retryable


def test_one_line_descriptions_name_the_code_and_the_message():
    error = refused("AccessDeniedException", "not allowed", operation="CreateModelPackageGroup")
    assert aws_errors.describe(error) == "AccessDeniedException: not allowed"
    assert (
        aws_errors.describe_call(error)
        == "CreateModelPackageGroup failed: AccessDeniedException: not allowed"
    )
    assert aws_errors.error_code(ValueError("x")) == ""


class CallError(RuntimeError):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def test_an_adapter_hands_an_aws_error_on_as_its_callers_own_with_the_original_as_cause():
    original = refused("SlowDown", "slow", status=503)
    with (
        pytest.raises(CallError, match=r"^SlowDown: slow$") as raised,
        aws_errors.reraised_with_retryable(CallError),
    ):
        raise original
    assert raised.value.retryable is True
    assert raised.value.__cause__ is original

    with pytest.raises(KeyError), aws_errors.reraised_with_retryable(CallError):
        raise KeyError("not an AWS error: passes through")
