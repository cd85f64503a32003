"""A case against an asynchronous inference endpoint: the request's body uploaded to the stack's async
inference bucket, ``InvokeEndpointAsync`` with that input location, then the answer waited for.

The wait polls the answer's output location (and its failure location), first after
:data:`FIRST_POLL_SECONDS`, then twice as long each time up to :data:`MAX_POLL_SECONDS`, and gives up
at the request's timeout (which the runner chooses to end before the Lambda's time runs out): a
bounded number of reads, never a busy loop. The answer is a response like InvokeEndpoint's, so a case
checks it as it checks a real-time one; its latency includes the queue and the polling.

A failure object means the model did not answer: it is reported as the model's error (``ModelError``,
424, as InvokeEndpoint reports a model's refusal; inferred: SageMaker's failure object holds the
error, not a code), with the object's text as the message.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from mlops_core.integration_tests.ports import (
    AsyncInferencePort,
    AsyncInvocationRefusedError,
    InvocationResponse,
)
from mlops_core.integration_tests.suites import InvocationRequest

FIRST_POLL_SECONDS = 0.05
MAX_POLL_SECONDS = 2.0
MODEL_ERROR_STATUS = 424


class AsyncInvoker:
    """An :class:`~mlops_core.integration_tests.ports.EndpointInvoker` for asynchronous endpoints."""

    def __init__(
        self,
        port: AsyncInferencePort,
        inputs_location: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._port = port
        self._inputs = inputs_location.rstrip("/") + "/"
        self._clock = clock
        self._sleep = sleep
        self._new_id = new_id

    def invoke(
        self, endpoint_name: str, request: InvocationRequest, *, timeout_seconds: float
    ) -> InvocationResponse:
        started = self._clock()
        deadline = started + timeout_seconds

        def elapsed_ms() -> float:
            return (self._clock() - started) * 1000

        if request.target_variant:
            return InvocationResponse(
                0,
                elapsed_ms(),
                error_code="TargetVariantNotSupported",
                error_message="InvokeEndpointAsync has no TargetVariant: an async endpoint picks its variant",
            )
        input_location = f"{self._inputs}{self._new_id()}"
        try:
            self._port.put_input(input_location, request.body, request.resolved_content_type)
            accepted = self._port.invoke_async(endpoint_name, input_location, request)
        except AsyncInvocationRefusedError as error:
            return InvocationResponse(
                error.status_code, elapsed_ms(), error_code=error.error_code, error_message=str(error)
            )
        wait = FIRST_POLL_SECONDS
        while True:
            answer = self._port.read_answer(accepted.output_location)
            if answer is not None:
                return InvocationResponse(
                    200, elapsed_ms(), body=answer.body, content_type=answer.content_type
                )
            failure = self._port.read_answer(accepted.failure_location)
            if failure is not None:
                return InvocationResponse(
                    MODEL_ERROR_STATUS,
                    elapsed_ms(),
                    error_code="ModelError",
                    error_message=failure.body.decode(errors="replace"),
                )
            left = deadline - self._clock()
            if left <= 0:
                return InvocationResponse(
                    0,
                    elapsed_ms(),
                    error_code="AsyncAnswerTimeout",
                    error_message=f"no answer at {accepted.output_location} within {timeout_seconds:g} s",
                )
            self._sleep(min(wait, left))
            wait = min(wait * 2, MAX_POLL_SECONDS)
