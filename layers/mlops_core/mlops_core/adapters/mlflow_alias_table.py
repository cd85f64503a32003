"""The MLflow alias watcher's state (:class:`~mlops_core.mlflow_aliases.alias_watcher.AliasStatePort`):
the last seen version of each alias in the config table (``MLFLOW#{model}`` / ``ALIAS#{alias}``), the
projects whose registry is MLflow (a Query of the table's ``ProjectsByRegistry`` index: never a Scan,
whose cost grows with everything the table holds), and the webhook deliveries already seen (the
idempotency table).

Apart from :mod:`mlops_core.adapters.mlflow_alias_state` (the reads the deployer makes too), so that the
deployer's cold start does not import the project records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from mlops_core.adapters.conditional_writes import put_item_if
from mlops_core.adapters.mlflow_alias_state import SeenAliasVersions, alias_key
from mlops_core.contract.project_record import (
    PROJECT_KEY_PREFIX,
    PROJECT_META,
    PROJECTS_BY_REGISTRY_INDEX,
    ProjectRecord,
    RegistryBackend,
)
from mlops_core.observability import logger

DELIVERY_KEY_PREFIX = "mlflow-webhook#"
DELIVERY_WINDOW_SECONDS = 24 * 3600

_deserializer = TypeDeserializer()


class AliasStateTable(SeenAliasVersions):
    """The last seen aliases in the config table, and webhook deliveries in the idempotency table."""

    def __init__(self, dynamodb: Any, config_table: str, idempotency_table: str) -> None:
        super().__init__(dynamodb, config_table)
        self._idempotency_table = idempotency_table

    def mlflow_projects(self) -> list[ProjectRecord]:
        """The active projects whose registry is MLflow. The index is eventually consistent (a global
        secondary index has no consistent reads): a project created a moment ago is found by the next
        poll or delivery."""
        records = []
        for item in self._query_mlflow_projects():
            try:
                record = ProjectRecord.model_validate(item)
            except ValueError as error:
                logger.warning(
                    "Project record skipped: invalid", extra={"pk": item.get("pk"), "error": str(error)}
                )
                continue
            if record.registry_backend is RegistryBackend.MLFLOW and record.status == "active":
                records.append(record)
        return records

    def _query_mlflow_projects(self) -> Iterator[dict[str, Any]]:
        paginator = self._dynamodb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._config_table,
            IndexName=PROJECTS_BY_REGISTRY_INDEX,
            KeyConditionExpression="registry_backend = :mlflow",
            FilterExpression="begins_with(pk, :prefix) AND sk = :meta",
            ExpressionAttributeValues={
                ":mlflow": {"S": RegistryBackend.MLFLOW.value},
                ":prefix": {"S": PROJECT_KEY_PREFIX},
                ":meta": {"S": PROJECT_META},
            },
        ):
            for item in page.get("Items", []):
                yield _plain({name: _deserializer.deserialize(value) for name, value in item.items()})

    def record(self, model: str, alias: str, *, old: int | None, new: int | None) -> bool:
        """Compare-and-set: ``alias`` goes from ``old`` to ``new`` only if it still says ``old``.

        A removed alias is kept as a tombstone (an item without ``version``), so that removing it is a
        conditional PutItem too, which a retry whose answer was lost recognises as its own
        (:func:`~mlops_core.adapters.conditional_writes.put_item_if`) instead of taking the change for someone
        else's and dropping it (no event, no deployment)."""
        item = {
            **{name: {"S": value} for name, value in alias_key(model, alias).items()},
            "model": {"S": model},
            "alias": {"S": alias},
            "seen_at": {"S": datetime.now(UTC).isoformat(timespec="seconds")},
        }
        if new is not None:
            item["version"] = {"N": str(new)}
        if old is None:
            return put_item_if(
                self._dynamodb,
                TableName=self._config_table,
                Item=item,
                ConditionExpression="attribute_not_exists(version)",
            )
        return put_item_if(
            self._dynamodb,
            TableName=self._config_table,
            Item=item,
            ConditionExpression="version = :old",
            ExpressionAttributeValues={":old": {"N": str(old)}},
        )

    def claim_delivery(self, delivery_id: str) -> bool:
        """First sight of a webhook delivery id (kept a day, like the functions' idempotency records)."""
        expiration = int(datetime.now(UTC).timestamp()) + DELIVERY_WINDOW_SECONDS
        return put_item_if(
            self._dynamodb,
            TableName=self._idempotency_table,
            Item={
                "id": {"S": DELIVERY_KEY_PREFIX + delivery_id},
                "expiration": {"N": str(expiration)},
                "status": {"S": "COMPLETED"},
            },
            ConditionExpression="attribute_not_exists(id)",
        )

    def release_delivery(self, delivery_id: str) -> None:
        self._dynamodb.delete_item(
            TableName=self._idempotency_table, Key={"id": {"S": DELIVERY_KEY_PREFIX + delivery_id}}
        )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | set):
        return [_plain(item) for item in value]
    return value
