"""Suites, runs and the claims on deployments, in the config table (the endpoint tester's
:class:`~mlops_core.integration_tests.ports.SuiteStorePort`).

A suite belongs to one endpoint and lives at ``ENDPOINT#{endpoint}`` / ``TESTS``, written by
``python -m mlops_core.suite_tool`` (which validates it, so a suite in the table is always valid). Each
run is kept at ``ENDPOINT#{endpoint}`` / ``RUN#{run id}`` with a TTL, and the claim on a deployment at
``ENDPOINT#{endpoint}`` / ``TESTED#{endpoint config}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from mlops_core.adapters.conditional_writes import put_item_if
from mlops_core.integration_tests.ports import CLAIM_RUNNING, CLAIM_TESTED
from mlops_core.integration_tests.suites import TestSuite

TESTS_SORT_KEY = "TESTS"
RUN_SORT_KEY_PREFIX = "RUN#"
TESTED_SORT_KEY_PREFIX = "TESTED#"


def endpoint_partition_key(endpoint_name: str) -> str:
    return f"ENDPOINT#{endpoint_name}"


class TableClient(Protocol):
    def get_item(self, **kwargs: Any) -> dict[str, Any]: ...
    def put_item(self, **kwargs: Any) -> dict[str, Any]: ...
    def delete_item(self, **kwargs: Any) -> dict[str, Any]: ...


class SuiteStore:
    """Suites, runs and the record of deployments already tested, in the config table."""

    def __init__(self, dynamodb: TableClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def get_suite(self, endpoint_name: str) -> TestSuite | None:
        item = self._dynamodb.get_item(
            TableName=self._table,
            Key={"pk": {"S": endpoint_partition_key(endpoint_name)}, "sk": {"S": TESTS_SORT_KEY}},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        return TestSuite.model_validate_json(item["suite"]["S"])

    def put_suite(self, endpoint_name: str, suite: TestSuite, *, source: str) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": endpoint_partition_key(endpoint_name)},
                "sk": {"S": TESTS_SORT_KEY},
                # exclude_unset, not exclude_defaults: a field given with its default value (``equals:
                # null``) is part of the suite and must come back as written.
                "suite": {"S": suite.model_dump_json(by_alias=True, exclude_unset=True)},
                "source": {"S": source},
            },
        )

    def claim_deployment(
        self, endpoint_name: str, endpoint_config_name: str, *, now: int, lease_until: int
    ) -> bool:
        """Claim the test of this deployment (endpoint config) for one run; False if another holds it.

        The claim is a lease (``state`` ``running``, ``expires_at`` = ``lease_until``): a run that
        is killed (Lambda's timeout) leaves a claim that the retry of its event may take over once the
        lease has expired. A finished run turns the claim into ``tested`` (:meth:`finish_deployment`),
        which is never taken over. A retry of a claim whose answer was lost finds its own claim
        (:func:`~mlops_core.adapters.conditional_writes.put_item_if`).
        """
        return put_item_if(
            self._dynamodb,
            TableName=self._table,
            Item={
                **self._claim_key(endpoint_name, endpoint_config_name),
                "state": {"S": CLAIM_RUNNING},
                "claimed_at": {"N": str(now)},
                "expires_at": {"N": str(lease_until)},
            },
            ConditionExpression="attribute_not_exists(pk) OR (#state = :running AND expires_at < :now)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":running": {"S": CLAIM_RUNNING}, ":now": {"N": str(now)}},
        )

    def deployment_claim(self, endpoint_name: str, endpoint_config_name: str) -> dict[str, Any] | None:
        """The claim on a deployment as plain values (``state``, ``expires_at``), or None."""
        item = self._dynamodb.get_item(
            TableName=self._table,
            Key=self._claim_key(endpoint_name, endpoint_config_name),
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else {name: _plain(value) for name, value in item.items()}

    def finish_deployment(
        self, endpoint_name: str, endpoint_config_name: str, *, run_id: str, expires_at: int
    ) -> None:
        """The deployment was tested (run ``run_id``): later events for it run nothing."""
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                **self._claim_key(endpoint_name, endpoint_config_name),
                "state": {"S": CLAIM_TESTED},
                "run_id": {"S": run_id},
                "expires_at": {"N": str(expires_at)},
            },
        )

    def release_deployment(self, endpoint_name: str, endpoint_config_name: str) -> None:
        """Forget a claim whose run did not happen or failed, so that a later event runs the suite."""
        self._dynamodb.delete_item(
            TableName=self._table, Key=self._claim_key(endpoint_name, endpoint_config_name)
        )

    @staticmethod
    def _claim_key(endpoint_name: str, endpoint_config_name: str) -> dict[str, Any]:
        return {
            "pk": {"S": endpoint_partition_key(endpoint_name)},
            "sk": {"S": TESTED_SORT_KEY_PREFIX + endpoint_config_name},
        }

    def put_run(
        self, endpoint_name: str, run_id: str, *, outcome: str, result: Mapping[str, Any], expires_at: int
    ) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": endpoint_partition_key(endpoint_name)},
                "sk": {"S": RUN_SORT_KEY_PREFIX + run_id},
                "outcome": {"S": outcome},
                "result": {"S": json.dumps(result)},
                "expires_at": {"N": str(expires_at)},
            },
        )

    def project_record(self, project: str) -> dict[str, Any]:
        """The project's ``META`` item as plain values (empty when the project has none)."""
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"pk": {"S": f"PROJECT#{project}"}, "sk": {"S": "META"}}
        ).get("Item")
        return {name: _plain(value) for name, value in (item or {}).items()}


def _plain(value: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as a plain value (the few types a project record uses)."""
    (kind, raw), *_ = value.items()
    if kind == "BOOL":
        return bool(raw)
    if kind == "N":
        return float(raw)
    if kind == "M":
        return {key: _plain(inner) for key, inner in raw.items()}
    if kind == "L":
        return [_plain(inner) for inner in raw]
    return raw
