"""The config table: project records, pending deployments, announced rollbacks and announced pending
versions, behind a small adapter.

Single-table design with ``pk``/``sk`` string keys. Items are plain Python on the way out
(DynamoDB numbers become ``int`` or ``float``, not ``Decimal``), so pydantic models validate
them as they would validate JSON.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from mlops_core.adapters import aws_errors
from mlops_core.adapters.conditional_writes import WRITE_TOKEN, put_item_if

META = "META"
PENDING = "PENDING"
ROLLBACK = "ROLLBACK"
FAILED = "FAILED"
APPROVAL_ANNOUNCED = "ANNOUNCED"
APPROVAL_ANNOUNCEMENT_DAYS = 90  # the claim's TTL: a version pending longer may be announced again

_deserializer = TypeDeserializer()
_serializer = TypeSerializer()


def project_key(project: str) -> dict[str, str]:
    """The project record: ``PROJECT#{project}`` / ``META``."""
    return {"pk": f"PROJECT#{project}", "sk": META}


def pending_deployment_key(endpoint_name: str) -> dict[str, str]:
    """The deployment deferred while an endpoint was busy: ``ENDPOINT#{endpoint}`` / ``PENDING``."""
    return {"pk": f"ENDPOINT#{endpoint_name}", "sk": PENDING}


def rollback_announcement_key(endpoint_name: str, endpoint_config_name: str, started: int) -> dict[str, str]:
    """SageMaker's rollback of one update of an endpoint (the config it undid, the update's start in
    epoch milliseconds), once announced: ``ENDPOINT#{endpoint}`` / ``ROLLBACK#{config}#{start}``."""
    return {"pk": f"ENDPOINT#{endpoint_name}", "sk": f"{ROLLBACK}#{endpoint_config_name}#{started}"}


def failure_announcement_key(endpoint_name: str, endpoint_config_name: str, created: int) -> dict[str, str]:
    """One failure of an endpoint (the config it failed with, the endpoint's creation in epoch
    milliseconds), once announced: ``ENDPOINT#{endpoint}`` / ``FAILED#{config}#{created}``."""
    return {"pk": f"ENDPOINT#{endpoint_name}", "sk": f"{FAILED}#{endpoint_config_name}#{created}"}


def approval_announcement_key(model_package_arn: str) -> dict[str, str]:
    return {"pk": f"APPROVAL#{model_package_arn}", "sk": APPROVAL_ANNOUNCED}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | set | frozenset):
        return [_plain(item) for item in value]
    return value


def _to_dynamodb(item: dict[str, Any]) -> dict[str, Any]:
    def prepare(value: Any) -> Any:
        if isinstance(value, float):
            return Decimal(str(value))
        if isinstance(value, dict):
            return {key: prepare(item) for key, item in value.items()}
        if isinstance(value, list):
            return [prepare(item) for item in value]
        return value

    return {key: _serializer.serialize(prepare(value)) for key, value in item.items()}


class ConfigTable:
    """Reads and writes of the config table with a low-level DynamoDB client."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def _get(self, key: dict[str, str]) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table_name, Key=_to_dynamodb(key), ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            return None
        plain: dict[str, Any] = _plain(
            {name: _deserializer.deserialize(value) for name, value in item.items()}
        )
        return plain

    def get_project(self, project: str) -> dict[str, Any] | None:
        """The project record, or None when the project has none (the stack's defaults apply)."""
        return self._get(project_key(project))

    def get_pending_deployment(self, endpoint_name: str) -> dict[str, Any] | None:
        pending = self._get(pending_deployment_key(endpoint_name))
        if pending is not None:
            pending.pop(WRITE_TOKEN, None)
        return pending

    def put_pending_deployment(self, endpoint_name: str, deployment: dict[str, Any], *, version: int) -> bool:
        """Store the deployment unless a newer version is already pending (latest version wins).

        Returns False when a newer (or the same) version is already stored. The condition makes two
        racing approvals safe: whichever order they are written in, the newest stays.
        """
        condition = "attribute_not_exists(pk) OR model_package_version < :version"
        return self._put_pending(endpoint_name, deployment, version, condition)

    def replace_pending_deployment(
        self, endpoint_name: str, deployment: dict[str, Any], *, version: int
    ) -> bool:
        """Store the deployment whatever is pending, unless it is this very version already (False).

        For a registry whose latest *decision* wins rather than its highest version number (an MLflow
        alias moved back to an older version); the caller checks that the deployment is current
        first, so what is stored last is what was decided last."""
        condition = "attribute_not_exists(pk) OR model_package_version <> :version"
        return self._put_pending(endpoint_name, deployment, version, condition)

    def _put_pending(
        self, endpoint_name: str, deployment: dict[str, Any], version: int, condition: str
    ) -> bool:
        item = {**pending_deployment_key(endpoint_name), **deployment, "model_package_version": version}
        return put_item_if(
            self._client,
            TableName=self._table_name,
            Item=_to_dynamodb(item),
            ConditionExpression=condition,
            ExpressionAttributeValues={":version": {"N": str(version)}},
        )

    def delete_pending_deployment(self, endpoint_name: str, *, version: int) -> None:
        """Delete the pending deployment if it is still this version (a newer one stays)."""
        try:
            self._client.delete_item(
                TableName=self._table_name,
                Key=_to_dynamodb(pending_deployment_key(endpoint_name)),
                ConditionExpression="model_package_version = :version",
                ExpressionAttributeValues={":version": {"N": str(version)}},
            )
        except aws_errors.SERVICE_ERRORS as error:
            if not aws_errors.is_condition_failed(error):
                raise

    def claim_rollback_announcement(
        self, endpoint_name: str, endpoint_config_name: str, *, started: int, event_id: str, expires_at: int
    ) -> bool:
        """Claim the announcement of SageMaker's rollback of one update (``endpoint_config_name``,
        started at ``started`` epoch ms); False if another delivery of its notice has it already.

        The notice can arrive more than once with new event ids (SageMaker may send several events for
        one state change, and EventBridge redelivers), so the event id cannot tell: the rollback's
        identity can. The event that holds the claim may take it again (Lambda retrying it after its
        events failed to publish); a retry whose answer was lost finds its own write
        (:func:`~mlops_core.adapters.conditional_writes.put_item_if`). ``expires_at``: the item's TTL.
        """
        key = rollback_announcement_key(endpoint_name, endpoint_config_name, started)
        return self._claim(key, event_id=event_id, expires_at=expires_at)

    def claim_failure_announcement(
        self, endpoint_name: str, endpoint_config_name: str, *, created: int, event_id: str, expires_at: int
    ) -> bool:
        """Claim the announcement of one failure of an endpoint; False if another event announced it
        already. Its ``FAILED`` event may come more than once with new ids, and the endpoint's
        in-service check finds the same failure (which it announces if the event was lost): the
        failure's identity tells, not the event id. The event that holds the claim may take it again
        (Lambda retrying it). ``expires_at``: the item's TTL."""
        key = failure_announcement_key(endpoint_name, endpoint_config_name, created)
        return self._claim(key, event_id=event_id, expires_at=expires_at)

    def claim_approval_announcement(self, model_package_arn: str, *, event_id: str) -> bool:
        """Claim the announcement of a pending version; False if another event announced it already.
        The event that holds the claim may take it again (Lambda retrying it after Slack failed)."""
        expires_at = int(time.time()) + APPROVAL_ANNOUNCEMENT_DAYS * 86400
        return self._claim(
            approval_announcement_key(model_package_arn), event_id=event_id, expires_at=expires_at
        )

    def _claim(self, key: dict[str, str], *, event_id: str, expires_at: int) -> bool:
        """Write ``key``'s claim for ``event_id`` unless another event holds it (the holder may take it
        again; a retry whose answer was lost finds its own write). ``expires_at``: the item's TTL."""
        return put_item_if(
            self._client,
            TableName=self._table_name,
            Item=_to_dynamodb({**key, "event_id": event_id, "expires_at": expires_at}),
            ConditionExpression="attribute_not_exists(pk) OR event_id = :event_id",
            ExpressionAttributeValues={":event_id": {"S": event_id}},
        )
