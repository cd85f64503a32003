"""An asynchronous endpoint's queue for the endpoint tester
(:class:`~mlops_core.integration_tests.ports.AsyncInferencePort`): inputs put in S3,
``InvokeEndpointAsync`` through boto3's ``sagemaker-runtime`` client (AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME is
honoured by boto3 itself), answers read back from S3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError

from mlops_core.adapters import aws_errors
from mlops_core.integration_tests.ports import (
    AcceptedInvocation,
    AsyncInvocationRefusedError,
    StoredAnswer,
)
from mlops_core.integration_tests.suites import InvocationRequest


def _split(location: str) -> tuple[str, str]:
    bucket, _, key = location.removeprefix("s3://").partition("/")
    return bucket, key


class AsyncInferenceQueue:
    """``clients``: a service name's client (the wiring's ClientFactory), asked for on first use, so a
    tester that never meets an async endpoint builds no S3 or runtime client."""

    def __init__(self, clients: Callable[[str], Any]) -> None:
        self._clients = clients

    @property
    def _s3(self) -> Any:
        return self._clients("s3")

    @property
    def _runtime(self) -> Any:
        return self._clients("sagemaker-runtime")

    def put_input(self, location: str, body: bytes, content_type: str) -> None:
        bucket, key = _split(location)
        try:
            self._s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        except aws_errors.SERVICE_ERRORS as error:
            raise AsyncInvocationRefusedError(
                aws_errors.http_status(error),
                aws_errors.error_code(error) or None,
                f"the input could not be put at {location}: {aws_errors.describe(error)}",
            ) from error

    def invoke_async(
        self, endpoint_name: str, input_location: str, request: InvocationRequest
    ) -> AcceptedInvocation:
        arguments: dict[str, Any] = {
            "EndpointName": endpoint_name,
            "InputLocation": input_location,
            "ContentType": request.resolved_content_type,
        }
        if request.accept:
            arguments["Accept"] = request.accept
        if request.custom_attributes:
            arguments["CustomAttributes"] = request.custom_attributes
        try:
            response = self._runtime.invoke_endpoint_async(**arguments)
        except BotoCoreError as error:  # could not connect, timed out: nothing was queued
            raise AsyncInvocationRefusedError(0, type(error).__name__, str(error)) from error
        except aws_errors.SERVICE_ERRORS as error:
            raise AsyncInvocationRefusedError(
                aws_errors.http_status(error),
                aws_errors.error_code(error) or None,
                aws_errors.error_message(error),
            ) from error
        return AcceptedInvocation(response["OutputLocation"], response["FailureLocation"])

    def read_answer(self, location: str) -> StoredAnswer | None:
        bucket, key = _split(location)
        try:
            found = self._s3.get_object(Bucket=bucket, Key=key)
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.is_not_found(error):
                return None
            raise
        return StoredAnswer(found["Body"].read(), found.get("ContentType"))
