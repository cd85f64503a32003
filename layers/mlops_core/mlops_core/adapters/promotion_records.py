"""The artifact copier's records in the config table: the project records it reads
(:class:`~mlops_core.promotion.ports.ProjectsPort`) and the promotion ledger
(:class:`~mlops_core.promotion.ports.PromotionLedgerPort`), ``PROMOTION#{source arn}`` items."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mlops_core.adapters import aws_errors
from mlops_core.adapters.config_table import ConfigTable
from mlops_core.promotion.ports import CLAIM_STALE_AFTER, LedgerEntry, PromotionServiceError


class ProjectDirectory:
    """Project records by project name: a read of ``PROJECT#{project}`` / ``META``."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._table = ConfigTable(client, table_name)

    def get_project(self, project: str) -> dict[str, Any] | None:
        with aws_errors.reraised_with_retryable(PromotionServiceError):
            try:
                return self._table.get_project(project)
            except aws_errors.SERVICE_ERRORS as error:
                if aws_errors.error_code(error) == "ValidationException":
                    return None  # not a key at all (e.g. an empty name)
                raise


class PromotionLedger:
    """The config table's record of promotions: the copies made, and who is making them now."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    @staticmethod
    def _key(key: Mapping[str, str]) -> dict[str, Any]:
        return {name: {"S": value} for name, value in key.items()}

    def read(self, key: Mapping[str, str]) -> LedgerEntry | None:
        with aws_errors.reraised_with_retryable(PromotionServiceError):
            item = self._client.get_item(
                TableName=self._table_name, Key=self._key(key), ConsistentRead=True
            ).get("Item")
        if item is None:
            return None
        copies = {group: value["S"] for group, value in (item.get("copies", {}).get("M") or {}).items()}
        owner = item.get("claimed_by", {}).get("S")
        return LedgerEntry(copies=copies, owner=owner)

    def claim(self, key: Mapping[str, str], *, owner: str, now: datetime, source_arn: str) -> bool:
        """Claim the promotion unless someone else holds a fresh claim; True when claimed."""
        with aws_errors.reraised_with_retryable(PromotionServiceError):
            try:
                self._client.update_item(
                    TableName=self._table_name,
                    Key=self._key(key),
                    UpdateExpression="SET claimed_by = :me, claimed_at = :now, "
                    "copies = if_not_exists(copies, :none), source_model_package_arn = :source",
                    ConditionExpression="attribute_not_exists(claimed_by) OR claimed_by = :me "
                    "OR claimed_at < :stale",
                    ExpressionAttributeValues={
                        ":me": {"S": owner},
                        ":now": {"S": now.isoformat()},
                        ":stale": {"S": (now - CLAIM_STALE_AFTER).isoformat()},
                        ":none": {"M": {}},
                        ":source": {"S": source_arn},
                    },
                )
            except aws_errors.SERVICE_ERRORS as error:
                if aws_errors.is_condition_failed(error):
                    return False
                raise
        return True

    def record(self, key: Mapping[str, str], group: str, arn: str) -> None:
        with aws_errors.reraised_with_retryable(PromotionServiceError):
            self._client.update_item(
                TableName=self._table_name,
                Key=self._key(key),
                UpdateExpression="SET copies.#group = :arn",
                ExpressionAttributeNames={"#group": group},
                ExpressionAttributeValues={":arn": {"S": arn}},
            )

    def release(self, key: Mapping[str, str], *, owner: str) -> None:
        with aws_errors.reraised_with_retryable(PromotionServiceError):
            try:
                self._client.update_item(
                    TableName=self._table_name,
                    Key=self._key(key),
                    UpdateExpression="REMOVE claimed_by, claimed_at",
                    ConditionExpression="claimed_by = :me",
                    ExpressionAttributeValues={":me": {"S": owner}},
                )
            except aws_errors.SERVICE_ERRORS as error:
                if not aws_errors.is_condition_failed(error):
                    raise
