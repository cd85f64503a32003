"""InvokeEndpoint as signed HTTP requests over one connection pool: the endpoint tester's lean
:class:`~mlops_core.integration_tests.ports.EndpointInvoker`.

boto3's full call stack (parameter validation, the event hooks, the request and response pipelines)
costs about 0.8-1.0 ms of client CPU per request, which is what capped the load phase (benchmarks/
RESULTS.md). This invoker does what a request needs and nothing else: the request is signed with
botocore's own SigV4 signer (the same signature, so IAM sees the same request: the local cloud's
inference server authorizes it exactly as it does boto3's) and sent through one shared urllib3
connection pool (botocore's own HTTP library); an error answer is parsed by botocore's own parser for
the service's protocol, with the service's model, so a case sees the same error codes
(``ModelError``, ``ValidationError``, ...) and, for a model's error, the status the model answered
with (``OriginalStatusCode``). The endpoint URL, region, credentials and model come from a
``sagemaker-runtime`` client made once (``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` is honoured there).

One attempt per request, as with boto3's client at ``max_attempts`` 1: a retried request would hide
errors and distort the latencies under test. A timeout or no connection is a failed response named as
botocore names it (``ReadTimeoutError``, ``ConnectTimeoutError``, ``EndpointConnectionError``).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HeadersDict
from botocore.config import Config
from botocore.httpsession import get_cert_path
from botocore.parsers import create_parser
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, ReadTimeoutError

from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.integration_tests.ports import CONNECT_TIMEOUT_SECONDS, InvocationResponse
from mlops_core.integration_tests.suites import InvocationRequest

SIGNING_NAME = "sagemaker"  # sagemaker-runtime signs as sagemaker (its model's signingName)
OPERATION = "InvokeEndpoint"


class SignedHttpInvoker:
    """InvokeEndpoint through one urllib3 pool of ``max_concurrency`` connections, SigV4-signed."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        region: str,
        credentials: Any,
        service_model: Any,
        max_concurrency: int = 64,
    ) -> None:
        self._endpoint_url = endpoint_url.rstrip("/")
        self._path_prefix = urlsplit(self._endpoint_url).path
        self._region = region
        self._credentials = credentials  # botocore's (refreshable) credentials
        self._operation = service_model.operation_model(OPERATION)
        self._parser = create_parser(service_model.metadata["protocol"])
        secure = urlsplit(self._endpoint_url).scheme == "https"
        self._pool = urllib3.connection_from_url(
            self._endpoint_url,
            maxsize=max_concurrency,
            block=False,
            **({"cert_reqs": "CERT_REQUIRED", "ca_certs": get_cert_path(True)} if secure else {}),
        )

    @classmethod
    def build(cls, clients: ClientFactory, max_concurrency: int = 64) -> SignedHttpInvoker:
        """From a ``sagemaker-runtime`` client of ``clients``' session: its endpoint URL, region,
        credentials and service model (the client itself sends nothing)."""
        client = clients.new_client(
            "sagemaker-runtime", Config(retries={"mode": "standard", "max_attempts": 1})
        )
        return cls(
            endpoint_url=client.meta.endpoint_url,
            region=client.meta.region_name,
            credentials=clients.credentials(),
            service_model=client.meta.service_model,
            max_concurrency=max_concurrency,
        )

    def _signed_headers(self, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        request = AWSRequest(method="POST", url=url, data=body, headers=headers)
        SigV4Auth(self._credentials.get_frozen_credentials(), SIGNING_NAME, self._region).add_auth(request)
        return dict(request.headers.items())

    def invoke(
        self, endpoint_name: str, request: InvocationRequest, *, timeout_seconds: float
    ) -> InvocationResponse:
        resource = f"/endpoints/{quote(endpoint_name, safe='')}/invocations"
        body = request.body
        headers = {"Content-Type": request.resolved_content_type}
        if request.accept:
            headers["Accept"] = request.accept
        if request.custom_attributes:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = request.custom_attributes
        if request.target_variant:
            headers["X-Amzn-SageMaker-Target-Variant"] = request.target_variant
        started = time.perf_counter()
        try:
            signed = self._signed_headers(self._endpoint_url + resource, body, headers)
            response = self._pool.urlopen(
                "POST",
                self._path_prefix + resource,
                body=body,
                headers=signed,
                retries=False,
                redirect=False,
                timeout=urllib3.Timeout(
                    connect=min(CONNECT_TIMEOUT_SECONDS, timeout_seconds), read=timeout_seconds
                ),
            )
        except HTTPError as error:  # timed out, could not connect: the endpoint did not answer
            return InvocationResponse(
                status_code=0,
                latency_ms=(time.perf_counter() - started) * 1000,
                error_code=_transport_error_code(error),
                error_message=f"no answer within {timeout_seconds:g} s: {error}"
                if isinstance(error, ReadTimeoutError)
                else str(error),
            )
        latency_ms = (time.perf_counter() - started) * 1000
        if response.status < 300:
            return InvocationResponse(
                status_code=response.status,
                latency_ms=latency_ms,
                body=response.data,
                content_type=response.headers.get("Content-Type"),
            )
        return self._error_response(response, latency_ms)

    def _error_response(self, response: Any, latency_ms: float) -> InvocationResponse:
        """The error as botocore's client reads it: code and message by the protocol's parser, and a
        modeled error's own fields (``OriginalStatusCode`` of a ``ModelError``) by its shape."""
        answer = {
            "status_code": response.status,
            "headers": HeadersDict(response.headers.items()),
            "body": response.data,
        }
        parsed = self._parser.parse(answer, self._operation.output_shape)
        error = parsed.get("Error", {})
        shape = self._operation.service_model.shape_for_error_code(error.get("Code"))
        if shape is not None:
            parsed.update(self._parser.parse(answer, shape))
        return InvocationResponse(
            status_code=int(parsed.get("OriginalStatusCode") or response.status),
            latency_ms=latency_ms,
            error_code=error.get("Code") or None,
            error_message=error.get("Message") or None,
        )


def _transport_error_code(error: HTTPError) -> str:
    """urllib3's failure as botocore names it (what the boto3 invoker reported)."""
    if isinstance(error, ReadTimeoutError):
        return "ReadTimeoutError"
    if isinstance(error, NewConnectionError):  # a subclass of ConnectTimeoutError: asked first
        return "EndpointConnectionError"
    if isinstance(error, ConnectTimeoutError):
        return "ConnectTimeoutError"
    return "ConnectionClosedError"
