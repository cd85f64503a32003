"""Project records in the config table, ``PROJECT#{project}`` / ``META`` (the project lifecycle's
:class:`~mlops_core.projects.ports.ProjectStorePort`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from mlops_core.contract.project_record import ProjectRecord


class ProjectStore:
    """Project records in the config table (low-level DynamoDB client, plain attribute values)."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table_name = table_name
        self._serializer = TypeSerializer()
        self._deserializer = TypeDeserializer()

    def get(self, project: str) -> ProjectRecord | None:
        key = {name: {"S": value} for name, value in ProjectRecord.key(project).items()}
        item = self._dynamodb.get_item(TableName=self._table_name, Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return ProjectRecord.model_validate(_plain(self._deserializer, item))

    def put(self, record: ProjectRecord) -> None:
        item = {name: self._serializer.serialize(value) for name, value in record.to_item().items()}
        self._dynamodb.put_item(TableName=self._table_name, Item=item)


def _plain(deserializer: TypeDeserializer, item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values → JSON-like values (numbers as int; the record holds no floats)."""
    plain: dict[str, Any] = json.loads(
        json.dumps({name: deserializer.deserialize(value) for name, value in item.items()}, default=int)
    )
    return plain
