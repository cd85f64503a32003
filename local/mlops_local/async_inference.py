"""InvokeEndpointAsync on the inference server: the request's input read from the embedded S3, the model
run as for InvokeEndpoint, and its answer (or its failure) written to the endpoint config's
``AsyncInferenceConfig`` locations in the embedded S3.

SageMaker queues the request and answers 202 at once; the answer appears in S3 later. Here the model
runs before the 202 is sent (compressed time: the answer is there by the time the caller looks), and
the rest is as the API reference says:
- ``POST /endpoints/{name}/async-invocations``; the answer's headers ``X-Amzn-SageMaker-OutputLocation``
  and ``X-Amzn-SageMaker-FailureLocation``, its body ``{"InferenceId": ...}``;
- the output is ``{S3OutputPath}{InferenceId}.out``, the failure ``{S3FailurePath}{InferenceId}-error.out``
  (inferred from the AWS developer guide's examples of async output locations), the output object
  carrying the model's content type (inferred);
- refused (ValidationError, 400): an endpoint that is not asynchronous (``AsyncInferenceConfig``:
  "This is a required field in order for your Endpoint to be invoked using InvokeEndpointAsync"),
  and a request with both or neither of ``Body`` and ``InputLocation`` (InvokeEndpointAsync,
  ``Body``: "Body and InputLocation are mutually exclusive. Provide exactly one of them.");
- an input that cannot be read, or a model that refuses it, is a failure object, not an error of
  the call (the call only enqueues).

SNS notifications (``NotificationConfig``) are not sent by the local cloud.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from moto.s3.models import s3_backends

# (body, headers) -> (answer, its content type); ModelFailedError when the model does not answer.
RunModel = Callable[[bytes, dict[str, str]], tuple[bytes, str | None]]


class AsyncRequestRefusedError(ValueError):
    """The call itself is refused (ValidationError): nothing is queued, nothing written."""


class ModelFailedError(Exception):
    """The model did not answer: the request's failure object says why."""


def invoke_async(
    account: str,
    endpoint_name: str,
    *,
    async_config: dict[str, Any] | None,
    body: bytes,
    headers: dict[str, str],
    run_model: RunModel,
) -> tuple[bytes, dict[str, str]]:
    """(202 body, headers) once the answer or the failure is in S3; AsyncRequestRefusedError if refused.
    ``async_config``: the serving endpoint config's ``AsyncInferenceConfig``."""
    output_config = (async_config or {}).get("OutputConfig")
    if not output_config:
        raise AsyncRequestRefusedError(
            f"Endpoint {endpoint_name} is not an asynchronous inference endpoint: its endpoint config "
            "has no AsyncInferenceConfig."
        )
    input_location = headers.get("input-location", "")
    if bool(input_location) == bool(body):
        raise AsyncRequestRefusedError(
            "Body and InputLocation are mutually exclusive. Provide exactly one of them."
        )
    inference_id = headers.get("inference-id") or str(uuid.uuid4())
    output = f"{output_config['S3OutputPath'].rstrip('/')}/{inference_id}.out"
    failure_path = output_config.get("S3FailurePath") or output_config["S3OutputPath"]
    failure = f"{failure_path.rstrip('/')}/{inference_id}-error.out"
    try:
        payload = _read(account, input_location) if input_location else body
        answer, content_type = run_model(payload, headers)
        _write(account, output, answer, content_type)
    except ModelFailedError as error:
        _write(account, failure, str(error).encode(), "text/plain")
    response_headers = {
        "Content-Type": "application/json",
        "X-Amzn-SageMaker-OutputLocation": output,
        "X-Amzn-SageMaker-FailureLocation": failure,
    }
    return json.dumps({"InferenceId": inference_id}).encode(), response_headers


def _read(account: str, location: str) -> bytes:
    bucket, _, key = location.removeprefix("s3://").partition("/")
    try:
        stored = s3_backends[account]["global"].get_object(bucket, key)
    except Exception as error:
        raise ModelFailedError(f"input {location} could not be read: {error}") from None
    if stored is None:
        raise ModelFailedError(f"input {location} could not be read")
    return bytes(stored.value)


def _write(account: str, location: str, value: bytes, content_type: str | None) -> None:
    bucket, _, key = location.removeprefix("s3://").partition("/")
    stored = s3_backends[account]["global"].put_object(bucket, key, value)
    if content_type:
        stored.set_metadata({"Content-Type": content_type})
