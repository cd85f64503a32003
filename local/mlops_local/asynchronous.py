"""Lambda's asynchronous invocation, which EventBridge uses: retries, then the on-failure destination.

A function that raises is called again up to its MaximumRetryAttempts (from its EventInvokeConfig,
default 2); when every attempt failed, Lambda sends an invocation record to the on-failure destination.
Here the retries follow each other at once, where Lambda waits a minute, then two.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mlops_local.errors import LocalCloudError
from mlops_local.functions import DeployedFunction
from mlops_local.runtime import Invocation
from mlops_local.trace import FunctionRun

Invoke = Callable[[DeployedFunction, Any, int], Invocation]  # (function, event, attempt number)


def run_asynchronously(
    function: DeployedFunction, rule: str, event: Any, invoke: Invoke, sqs_client: Any
) -> FunctionRun:
    attempts: list[Invocation] = []
    for attempt in range(1, function.max_retry_attempts + 2):
        attempts.append(invoke(function, event, attempt))
        if attempts[-1].succeeded:
            return FunctionRun(function.logical_id, rule, tuple(attempts))
    destination = function.on_failure_destination
    if destination is not None:
        _send_to_queue(sqs_client, destination, failure_record(function, event, attempts))
    return FunctionRun(function.logical_id, rule, tuple(attempts), destination)


def failure_record(function: DeployedFunction, event: Any, attempts: list[Invocation]) -> dict[str, Any]:
    """The record Lambda sends to an on-failure destination when the retries are exhausted."""
    last = attempts[-1]
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": last.request_id,
            "functionArn": f"{function.arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": len(attempts),
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": last.response,
    }


def _send_to_queue(sqs_client: Any, destination: str, record: dict[str, Any]) -> None:
    _arn, _partition, service, _region, account, name = destination.split(":", 5)
    if service != "sqs":
        raise LocalCloudError(
            f"on-failure destination {destination}: the local cloud sends failure records to SQS queues only"
        )
    queue_url = sqs_client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    sqs_client.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record))
