"""InvokeEndpoint through ``sagemaker-runtime`` (the endpoint tester's
:class:`~mlops_core.integration_tests.ports.EndpointInvoker`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError

from mlops_core.adapters import aws_errors
from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.integration_tests.ports import CONNECT_TIMEOUT_SECONDS, InvocationResponse
from mlops_core.integration_tests.suites import InvocationRequest


class SageMakerRuntimeInvoker:
    """InvokeEndpoint through boto3's ``sagemaker-runtime`` client (AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME
    is honoured by boto3 itself). One attempt per request: a retried request would hide errors and
    distort the latencies under test.

    botocore fixes the read timeout per client, so there is one client per timeout the runner uses
    (:data:`~mlops_core.integration_tests.tester.REQUEST_TIMEOUTS_SECONDS`, made on first use and kept
    for the container's life). A request that times out, or cannot connect, is a failed response
    (``ReadTimeoutError``, ...), not a crash."""

    def __init__(self, client_for_timeout: Callable[[float], Any]) -> None:
        self._client_for_timeout = client_for_timeout
        self._clients: dict[float, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def build(cls, clients: ClientFactory, max_concurrency: int = 64) -> SageMakerRuntimeInvoker:
        def client_for_timeout(timeout_seconds: float) -> Any:
            config = Config(
                retries={"mode": "standard", "max_attempts": 1},
                connect_timeout=min(CONNECT_TIMEOUT_SECONDS, timeout_seconds),
                read_timeout=timeout_seconds,
                max_pool_connections=max_concurrency,
            )
            return clients.new_client("sagemaker-runtime", config)

        return cls(client_for_timeout)

    def _client(self, timeout_seconds: float) -> Any:
        with self._lock:  # boto3 sessions may not build clients from several threads at once
            if timeout_seconds not in self._clients:
                self._clients[timeout_seconds] = self._client_for_timeout(timeout_seconds)
            return self._clients[timeout_seconds]

    def invoke(
        self, endpoint_name: str, request: InvocationRequest, *, timeout_seconds: float
    ) -> InvocationResponse:
        client = self._client(timeout_seconds)
        arguments: dict[str, Any] = {
            "EndpointName": endpoint_name,
            "Body": request.body,
            "ContentType": request.resolved_content_type,
        }
        if request.accept:
            arguments["Accept"] = request.accept
        if request.custom_attributes:
            arguments["CustomAttributes"] = request.custom_attributes
        if request.target_variant:
            arguments["TargetVariant"] = request.target_variant
        started = time.perf_counter()
        try:
            response = client.invoke_endpoint(**arguments)
            body = response["Body"].read()
        except BotoCoreError as error:  # timed out, could not connect: the endpoint did not answer
            return InvocationResponse(
                status_code=0,
                latency_ms=(time.perf_counter() - started) * 1000,
                error_code=type(error).__name__,
                error_message=f"no answer within {timeout_seconds:g} s: {error}"
                if isinstance(error, ReadTimeoutError)
                else str(error),
            )
        except ClientError as error:
            latency_ms = (time.perf_counter() - started) * 1000
            return InvocationResponse(
                # A model's own error (ModelError) carries the status the model answered with.
                status_code=int(error.response.get("OriginalStatusCode") or aws_errors.http_status(error)),
                latency_ms=latency_ms,
                error_code=aws_errors.error_code(error) or None,
                error_message=aws_errors.error_message(error) or None,
            )
        latency_ms = (time.perf_counter() - started) * 1000
        return InvocationResponse(
            status_code=int(response["ResponseMetadata"]["HTTPStatusCode"]),
            latency_ms=latency_ms,
            body=body,
            content_type=response.get("ContentType"),
        )
