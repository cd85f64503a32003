"""InvokeEndpoint as signed HTTP requests over one pool of kept-alive connections: the endpoint
tester's lean :class:`~mlops_core.integration_tests.ports.EndpointInvoker`.

boto3's full call stack (parameter validation, the event hooks, the request and response pipelines)
costs about 0.8-1.0 ms of client CPU per request, which is what capped the load phase (benchmarks/
RESULTS.md). This invoker does what a request needs and nothing else: the request is signed with
botocore's own SigV4 signer (the same signature, so IAM sees the same request: the local cloud's
inference server authorizes it exactly as it does boto3's) and sent on one of a shared pool of
connections of the standard library's HTTP/1.1 client (``http.client``, which urllib3 and so
botocore send through too: urllib3's own layers on top of it, retries, pool bookkeeping and header
containers, cost about a third more client CPU per request, and client CPU is what bounds the load one
invocation drives); an error answer is parsed by botocore's own parser for the service's protocol,
with the service's model, so a case sees the same error codes (``ModelError``, ``ValidationError``,
...) and, for a model's error, the status the model answered with (``OriginalStatusCode``). The
endpoint URL, region, credentials and model come from a ``sagemaker-runtime`` client made once
(``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` is honoured there); HTTPS verifies the endpoint's certificate
against botocore's CA bundle, as boto3's client does.

One attempt per request, as with boto3's client at ``max_attempts`` 1: a retried request would hide
errors and distort the latencies under test. A timeout or no connection is a failed response named as
botocore names it (``ReadTimeoutError``, ``ConnectTimeoutError``, ``EndpointConnectionError``,
``ConnectionClosedError``). An idle connection the endpoint has closed meanwhile is not used: it is
replaced before the request is sent, as urllib3 does.
"""

from __future__ import annotations

import http.client
import ssl
import time
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HeadersDict
from botocore.config import Config
from botocore.httpsession import get_cert_path
from botocore.parsers import create_parser
from urllib3.util.wait import wait_for_read

from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.integration_tests.ports import CONNECT_TIMEOUT_SECONDS, InvocationResponse
from mlops_core.integration_tests.suites import InvocationRequest

SIGNING_NAME = "sagemaker"  # sagemaker-runtime signs as sagemaker (its model's signingName)
OPERATION = "InvokeEndpoint"


class SignedHttpInvoker:
    """InvokeEndpoint through one pool of up to ``max_concurrency`` kept-alive connections, SigV4-signed.
    Safe to share between threads: each request has a connection to itself while it is sent."""

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
        url = urlsplit(self._endpoint_url)
        self._host, self._port = url.hostname or "", url.port
        self._tls = ssl.create_default_context(cafile=get_cert_path(True)) if url.scheme == "https" else None
        self._max_idle = max_concurrency
        self._idle: list[http.client.HTTPConnection] = []  # append and pop are atomic: no lock needed

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
        signed = self._signed_headers(self._endpoint_url + resource, body, headers)
        connection = self._connection()
        connected = connection.sock is not None
        try:
            if not connected:
                connection.timeout = min(CONNECT_TIMEOUT_SECONDS, timeout_seconds)
                connection.connect()
                connected = True
            connection.sock.settimeout(timeout_seconds)
            connection.request("POST", self._path_prefix + resource, body=body, headers=signed)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:  # the endpoint did not answer
            connection.close()
            return InvocationResponse(
                status_code=0,
                latency_ms=(time.perf_counter() - started) * 1000,
                error_code=_transport_error_code(error, connected=connected),
                error_message=f"no answer within {timeout_seconds:g} s: {error}"
                if connected and isinstance(error, TimeoutError)
                else str(error) or type(error).__name__,
            )
        latency_ms = (time.perf_counter() - started) * 1000
        self._release(connection, reusable=not response.will_close)
        if response.status < 300:
            return InvocationResponse(
                status_code=response.status,
                latency_ms=latency_ms,
                body=data,
                content_type=response.getheader("Content-Type"),
            )
        return self._error_response(response, data, latency_ms)

    def _connection(self) -> http.client.HTTPConnection:
        """An idle kept-alive connection the endpoint has not closed meanwhile, else a new one (not yet
        connected: ``invoke`` connects it, with the connect timeout)."""
        while self._idle:
            try:
                connection = self._idle.pop()
            except IndexError:  # another sender took the last one
                break
            if connection.sock is not None and not wait_for_read(connection.sock, timeout=0.0):
                return connection
            connection.close()  # closed by the endpoint (readable at EOF), or never connected
        if self._tls is not None:
            return http.client.HTTPSConnection(self._host, self._port, context=self._tls)
        return http.client.HTTPConnection(self._host, self._port)

    def _release(self, connection: http.client.HTTPConnection, *, reusable: bool) -> None:
        if reusable and len(self._idle) < self._max_idle:
            self._idle.append(connection)
        else:
            connection.close()

    def _error_response(
        self, response: http.client.HTTPResponse, body: bytes, latency_ms: float
    ) -> InvocationResponse:
        """The error as botocore's client reads it: code and message by the protocol's parser, and a
        modeled error's own fields (``OriginalStatusCode`` of a ``ModelError``) by its shape."""
        answer = {"status_code": response.status, "headers": HeadersDict(response.getheaders()), "body": body}
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


def _transport_error_code(error: Exception, *, connected: bool) -> str:
    """Why the endpoint did not answer, as botocore names it (what the boto3 invoker reported)."""
    if not connected:
        return "ConnectTimeoutError" if isinstance(error, TimeoutError) else "EndpointConnectionError"
    return "ReadTimeoutError" if isinstance(error, TimeoutError) else "ConnectionClosedError"
