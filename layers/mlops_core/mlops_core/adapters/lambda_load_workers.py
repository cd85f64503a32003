"""The workers of a load phase as invocations of the tester itself (the endpoint tester's
:class:`~mlops_core.integration_tests.ports.LoadWorkersPort`): Lambda is the distributed engine.

Each share is one synchronous ``Invoke`` (``RequestResponse``) of this function, by name, with the
share as a ``Load Share Requested`` event; the answer is the handler's result, whose ``tally`` is the
worker's. One attempt: a retried invocation would send its share twice. The client waits as long as a
worker may run (the function's 15-minute maximum), and keeps a connection per worker.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from botocore.config import Config

from mlops_core.adapters import aws_errors
from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.integration_tests.ports import LOAD_SHARE_DETAIL_TYPE, LOAD_SHARE_SOURCE, LoadWorkerError
from mlops_core.integration_tests.suites import MAX_LOAD_WORKERS

LAMBDA_MAX_SECONDS = 900


class LambdaLoadWorkers:
    def __init__(self, make_client: Callable[[], Any], function_name: str | None) -> None:
        self._make_client = make_client
        self._client: Any = None
        self._lock = threading.Lock()
        self._function_name = function_name

    @classmethod
    def build(cls, clients: ClientFactory, function_name: str | None) -> LambdaLoadWorkers:
        """Its Lambda client is made when a phase first needs workers (no cost to other runs)."""
        config = Config(
            retries={"mode": "standard", "max_attempts": 1},
            connect_timeout=5,
            read_timeout=LAMBDA_MAX_SECONDS + 10,
            max_pool_connections=MAX_LOAD_WORKERS,
        )
        return cls(lambda: clients.new_client("lambda", config), function_name)

    def _lambda(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def run_share(self, share: Mapping[str, Any]) -> dict[str, Any]:
        if not self._function_name:
            raise LoadWorkerError("the function's own name is unknown (AWS_LAMBDA_FUNCTION_NAME is not set)")
        event = {
            "id": str(uuid.uuid4()),
            "source": LOAD_SHARE_SOURCE,
            "detail-type": LOAD_SHARE_DETAIL_TYPE,
            "detail": dict(share),
        }
        try:
            response = self._lambda().invoke(
                FunctionName=self._function_name,
                InvocationType="RequestResponse",
                Payload=json.dumps(event).encode(),
            )
            payload = json.loads(response["Payload"].read() or b"null")
        except aws_errors.CALL_ERRORS as error:
            raise LoadWorkerError(aws_errors.describe(error)) from error
        if response.get("FunctionError"):
            error_type = payload.get("errorType") if isinstance(payload, dict) else None
            message = payload.get("errorMessage") if isinstance(payload, dict) else payload
            raise LoadWorkerError(f"the invocation failed: {error_type}: {message}")
        if not isinstance(payload, dict) or not isinstance(payload.get("tally"), dict):
            raise LoadWorkerError(f"the worker answered without a tally: {str(payload)[:200]}")
        tally: dict[str, Any] = payload["tally"]
        return tally
