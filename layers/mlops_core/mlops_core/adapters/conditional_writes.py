"""Conditional PutItems that survive their own retry.

A conditional PutItem whose answer is lost after DynamoDB applied it (a 500, a timeout) is retried by
botocore with the same parameters, and the retry is refused by the item it wrote itself: the writer
then takes its own write for someone else's (a claim "already held", a change "already seen") and the
event is lost. Each write here carries a token of its own, and the condition also accepts an item that
carries it, so the retry finds its own write; any other writer has another token and is refused.
"""

from __future__ import annotations

import uuid
from typing import Any

from mlops_core.adapters import aws_errors

WRITE_TOKEN = "write_token"  # the attribute holding the token of the write that made the item


def with_write_token(request: dict[str, Any]) -> dict[str, Any]:
    """A conditional PutItem request (low-level attribute values) with a write token of its own."""
    token = uuid.uuid4().hex
    return {
        **request,
        "Item": {**request["Item"], WRITE_TOKEN: {"S": token}},
        "ConditionExpression": f"({request['ConditionExpression']}) OR #write_token = :write_token",
        "ExpressionAttributeNames": {
            **request.get("ExpressionAttributeNames", {}),
            "#write_token": WRITE_TOKEN,
        },
        "ExpressionAttributeValues": {
            **request.get("ExpressionAttributeValues", {}),
            ":write_token": {"S": token},
        },
    }


def put_item_if(client: Any, **request: Any) -> bool:
    """PutItem with its ``ConditionExpression`` and a write token; False if the condition refused it."""
    try:
        client.put_item(**with_write_token(request))
    except aws_errors.SERVICE_ERRORS as error:
        if aws_errors.is_condition_failed(error):
            return False
        raise
    return True
