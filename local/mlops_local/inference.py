"""A SageMaker-runtime-compatible inference server for the embedded SageMaker's endpoints.

moto accepts InvokeEndpoint but answers with canned output, so an integration test would pass whatever
the model. This server answers ``POST /endpoints/{name}/invocations`` the way the SageMaker runtime
does, with the model really deployed: endpoint → endpoint config → production variant → model →
model package → ``ModelDataUrl`` in the embedded S3, loaded as the demo artifact format
(docs/demo-model.md) and cached by URL and ETag.

LocalCloud points ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` here, so boto3's ``sagemaker-runtime`` client
in the functions reaches it with no local-only code path. What the runtime does and this server does:
- the variant is the request's ``X-Amzn-SageMaker-Target-Variant``, else one drawn by the variants'
  weights; the answer names it in ``x-Amzn-Invoked-Production-Variant``;
- during a blue/green rollout, the new fleet answers its share of the requests (``endpoints``);
- shadow variants (if the endpoint config has them) get a copy of each request; their answers are
  kept in :attr:`InferenceServer.shadow_invocations`, never returned;
- custom attributes are passed through; a model that refuses the input is ``ModelError`` (424, with
  ``OriginalStatusCode``), an unknown or not-InService endpoint ``ValidationError`` (400);
- ``POST /endpoints/{name}/async-invocations`` is InvokeEndpointAsync (:mod:`mlops_local.async_inference`).
"""

import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from moto.s3.models import s3_backends
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends

from mlops_local import async_inference, endpoints
from mlops_local.demo_model import ARTIFACT_MEMBER, DemoModel, ModelInputError
from mlops_local.loopback import LoopbackServer
from mlops_local.loopback import answer as respond

SERVING_STATUSES = ("InService", "Updating", "SystemUpdating", "RollingBack")  # still serve the old config


@dataclass(frozen=True)
class ServedRequest:
    arrived: float  # time.perf_counter() when its request line and headers had been read
    service_ms: float  # from then until its answer was written


class InvocationRefusedError(Exception):
    def __init__(self, status: HTTPStatus, error_type: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.extra = extra


class InferenceServer(LoopbackServer):
    """Serves InvokeEndpoint on 127.0.0.1 for the endpoints of one account and region."""

    THREAD_NAME = "sagemaker-runtime"

    def __init__(self, *, account: str, region: str, authorize: Callable[..., Any] | None = None) -> None:
        self._account = account
        self._region = region
        # IAM (sagemaker:InvokeEndpoint, sagemaker:InvokeEndpointAsync): (Authorization header, endpoint,
        # region, operation=...) -> None, or a refusal with the service's error `code` and AWS's `message`.
        self._authorize = authorize
        self._models: dict[tuple[str, str], DemoModel] = {}
        self._lock = threading.Lock()
        self._random = random.Random(0)
        self.shadow_invocations: list[dict[str, Any]] = []
        self._recorders: list[list[ServedRequest]] = []
        self._listen()

    @contextmanager
    def recording(self) -> Iterator[list[ServedRequest]]:
        """Every request answered meanwhile: when it arrived and how long the server took (the ground
        truth a load generator's latencies are compared with: benchmarks/endpoint_load.py)."""
        served: list[ServedRequest] = []
        with self._lock:
            self._recorders.append(served)
        try:
            yield served
        finally:
            with self._lock:
                self._recorders.remove(served)

    def _served(self, arrived: float, answered: float) -> None:
        with self._lock:
            for recorder in self._recorders:
                recorder.append(ServedRequest(arrived, (answered - arrived) * 1000))

    @property
    def url(self) -> str:
        return self.base_url

    # ------------------------------------------------------------------------------------ inference

    @property
    def _sagemaker(self) -> SageMakerModelBackend:
        return sagemaker_backends[self._account][self._region]

    def _serving_config(self, endpoint_name: str) -> Any:
        backend = self._sagemaker
        endpoint = backend.endpoints.get(endpoint_name)
        if endpoint is None or endpoint.endpoint_status not in SERVING_STATUSES:
            state = "not found" if endpoint is None else f"is {endpoint.endpoint_status}"
            raise InvocationRefusedError(
                HTTPStatus.BAD_REQUEST,
                "ValidationError",
                f"Endpoint {endpoint_name} of account {self._account} {state}.",
            )
        return backend.endpoint_configs[endpoints.serving_config_name(endpoint, self._draw)]

    def invoke_async(
        self, endpoint_name: str, body: bytes, headers: dict[str, str]
    ) -> tuple[bytes, dict[str, str]]:
        """InvokeEndpointAsync: (202 body, headers), the answer or failure written to S3 first;
        InvocationRefusedError if the call is refused."""
        config = self._serving_config(endpoint_name)

        def run_model(payload: bytes, request_headers: dict[str, str]) -> tuple[bytes, str | None]:
            try:
                answer, answer_headers, _ = self.invoke(endpoint_name, payload, request_headers)
            except InvocationRefusedError as error:
                raise async_inference.ModelFailedError(str(error)) from None
            return answer, answer_headers.get("Content-Type")

        try:
            return async_inference.invoke_async(
                self._account,
                endpoint_name,
                async_config=getattr(config, "async_inference_config", None),
                body=body,
                headers=headers,
                run_model=run_model,
            )
        except async_inference.AsyncRequestRefusedError as error:
            raise InvocationRefusedError(HTTPStatus.BAD_REQUEST, "ValidationError", str(error)) from None

    def invoke(
        self, endpoint_name: str, body: bytes, headers: dict[str, str]
    ) -> tuple[bytes, dict[str, str], Callable[[], None] | None]:
        """(response body, response headers, delay) for one request; InvocationRefusedError if refused."""
        config = self._serving_config(endpoint_name)
        variant = self._pick_variant(endpoint_name, config.production_variants, headers.get("target-variant"))
        content_type = headers.get("content-type") or "application/octet-stream"
        accept = headers.get("accept")
        model = self._model_of(variant)
        try:
            answer, answer_type = model.invoke(body, content_type, accept)
        except ModelInputError as error:
            raise InvocationRefusedError(
                HTTPStatus.FAILED_DEPENDENCY,
                "ModelError",
                f'Received client error (400) from primary with message "{error}". See the logs.',
                OriginalStatusCode=400,
                OriginalMessage=str(error),
            ) from None
        for shadow in getattr(config, "shadow_production_variants", None) or []:
            self._invoke_shadow(endpoint_name, shadow, body, content_type, accept)
        response_headers = {
            "Content-Type": answer_type,
            "x-Amzn-Invoked-Production-Variant": variant["VariantName"],
        }
        if headers.get("custom-attributes"):
            response_headers["X-Amzn-SageMaker-Custom-Attributes"] = headers["custom-attributes"]
        return (
            answer,
            response_headers,
            (lambda: time.sleep(model.latency_ms / 1000)) if model.latency_ms else None,
        )

    def _draw(self) -> float:
        with self._lock:
            return self._random.random()

    def _pick_variant(
        self, endpoint_name: str, variants: list[dict[str, Any]], target: str | None
    ) -> dict[str, Any]:
        if target:
            for variant in variants:
                if variant["VariantName"] == target:
                    return variant
            raise InvocationRefusedError(
                HTTPStatus.BAD_REQUEST,
                "ValidationError",
                f"The variant {target} does not exist for endpoint {endpoint_name}.",
            )
        weights = [float(variant.get("InitialVariantWeight", 1.0)) for variant in variants]
        if len(variants) == 1 or not any(weights):
            return variants[0]
        with self._lock:
            return self._random.choices(variants, weights=weights)[0]

    def _invoke_shadow(
        self, endpoint_name: str, shadow: dict[str, Any], body: bytes, content_type: str, accept: str | None
    ) -> None:
        try:
            answer, _ = self._model_of(shadow).invoke(body, content_type, accept)
            record: dict[str, Any] = {
                "endpoint": endpoint_name,
                "variant": shadow["VariantName"],
                "body": answer,
            }
        except (ModelInputError, InvocationRefusedError) as error:
            record = {"endpoint": endpoint_name, "variant": shadow["VariantName"], "error": str(error)}
        with self._lock:
            self.shadow_invocations.append(record)

    def model(self, model_name: str) -> DemoModel:
        """The SageMaker model `model_name`, loaded as an endpoint serving it loads it (batch
        transform jobs run it too); InvocationRefusedError if it cannot be."""
        return self._model_of({"ModelName": model_name})

    def _model_of(self, variant: dict[str, Any]) -> DemoModel:
        url = self._model_data_url(variant["ModelName"])
        bucket, _, key = url.removeprefix("s3://").partition("/")
        uncompressed = key.endswith("/")  # ModelDataSource S3Prefix: the model directory itself
        if uncompressed:
            key += ARTIFACT_MEMBER
        try:
            stored = s3_backends[self._account]["global"].get_object(bucket, key)
        except Exception:
            stored = None
        if stored is None:
            raise InvocationRefusedError(
                HTTPStatus.FAILED_DEPENDENCY, "ModelError", f"model artifact {url} could not be read"
            )
        cache_key = (url, stored.etag)
        with self._lock:
            model = self._models.get(cache_key)
        if model is None:
            try:
                model = (
                    DemoModel.from_parameters(json.loads(stored.value))
                    if uncompressed
                    else DemoModel.from_artifact(stored.value)
                )
            except Exception as error:
                raise InvocationRefusedError(
                    HTTPStatus.FAILED_DEPENDENCY, "ModelError", f"model artifact {url} does not load: {error}"
                ) from None
            with self._lock:
                self._models[cache_key] = model
        return model

    def _model_data_url(self, model_name: str) -> str:
        backend = self._sagemaker
        model = backend._models[model_name]
        container = (model.containers or [model.primary_container or {}])[0]
        if container.get("ModelDataUrl"):
            return str(container["ModelDataUrl"])
        prefix = (container.get("ModelDataSource") or {}).get("S3DataSource", {}).get("S3Uri")
        if prefix:  # an uncompressed S3 prefix (e.g. an MLflow model version's directory)
            return str(prefix).rstrip("/") + "/"
        package_name = container.get("ModelPackageName")
        package = backend.model_packages.get(package_name) if package_name else None
        if package is None:
            raise InvocationRefusedError(
                HTTPStatus.FAILED_DEPENDENCY, "ModelError", f"model {model_name} has no model data"
            )
        return str(package.inference_specification["Containers"][0]["ModelDataUrl"])

    def _refusal(
        self, authorization: str, endpoint_name: str, operation: str = "InvokeEndpoint"
    ) -> InvocationRefusedError | None:
        if self._authorize is None:
            return None
        refusal = self._authorize(authorization, endpoint_name, self._region, operation=operation)
        if refusal is None:
            return None
        return InvocationRefusedError(HTTPStatus.FORBIDDEN, refusal.code, refusal.message)

    # ------------------------------------------------------------------------------------------ HTTP

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class SageMakerRuntimeHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: boto3 reuses its connections

            def setup(self) -> None:
                super().setup()
                # Headers and body are separate writes: without this, Nagle's algorithm and delayed ACKs
                # add 40 ms to every answer on a kept-alive connection.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                arrived = time.perf_counter()  # the request line and headers are read
                try:
                    self._answer()
                finally:
                    server._served(arrived, time.perf_counter())

            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = self.path.split("?")[0].strip("/").split("/")
                if len(parts) == 3 and parts[0] == "endpoints" and parts[2] == "async-invocations":
                    self._answer_async(unquote(parts[1]), body)
                    return
                if len(parts) != 3 or parts[0] != "endpoints" or parts[2] != "invocations":
                    self._error(
                        InvocationRefusedError(HTTPStatus.NOT_FOUND, "UnknownOperationException", self.path)
                    )
                    return
                headers = {
                    "content-type": self.headers.get("Content-Type", ""),
                    "accept": self.headers.get("Accept", ""),
                    "target-variant": self.headers.get("X-Amzn-SageMaker-Target-Variant", ""),
                    "custom-attributes": self.headers.get("X-Amzn-SageMaker-Custom-Attributes", ""),
                }
                refusal = server._refusal(self.headers.get("Authorization", ""), unquote(parts[1]))
                if refusal is not None:
                    self._error(refusal)
                    return
                try:
                    answer, response_headers, delay = server.invoke(
                        unquote(parts[1]), body, {k: v for k, v in headers.items() if v}
                    )
                except InvocationRefusedError as failure:
                    self._error(failure)
                    return
                if delay is not None:
                    delay()  # the artifact's latency_ms: a slow model, to show a broken latency budget
                respond(self, HTTPStatus.OK, answer, response_headers)

            def _answer_async(self, endpoint_name: str, body: bytes) -> None:
                headers = {
                    name: self.headers.get(f"X-Amzn-SageMaker-{header}", "")
                    for name, header in (
                        ("content-type", "Content-Type"),
                        ("accept", "Accept"),
                        ("custom-attributes", "Custom-Attributes"),
                        ("inference-id", "Inference-Id"),
                        ("input-location", "InputLocation"),
                    )
                }
                refusal = server._refusal(
                    self.headers.get("Authorization", ""), endpoint_name, "InvokeEndpointAsync"
                )
                if refusal is not None:
                    self._error(refusal)
                    return
                try:
                    answer, response_headers = server.invoke_async(
                        endpoint_name, body, {k: v for k, v in headers.items() if v}
                    )
                except InvocationRefusedError as failure:
                    self._error(failure)
                    return
                respond(self, HTTPStatus.ACCEPTED, answer, response_headers)

            def _error(self, failure: InvocationRefusedError) -> None:
                payload = json.dumps({"message": str(failure), **failure.extra}).encode()
                headers = {"Content-Type": "application/json", "x-amzn-ErrorType": failure.error_type}
                respond(self, failure.status, payload, headers)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read results, not access logs."""

        return SageMakerRuntimeHandler
