"""The last seen version of each MLflow alias (config table ``MLFLOW#{model}`` / ``ALIAS#{alias}``),
and MLflow's URI of a registered model version.

The alias watcher (:mod:`mlops_core.mlflow_aliases.alias_watcher`) writes this state; the model deployer only
reads it (a deferred MLflow deployment is applied only if its alias still names that version). This
module holds what both need, so the deployer's cold start does not import the watcher.
"""

from __future__ import annotations

from typing import Any

MLFLOW_KEY_PREFIX = "MLFLOW#"
ALIAS_KEY_PREFIX = "ALIAS#"


def alias_key(model: str, alias: str) -> dict[str, str]:
    return {"pk": MLFLOW_KEY_PREFIX + model, "sk": ALIAS_KEY_PREFIX + alias}


class SeenAliasVersions:
    """Reads the last seen version of each alias of a model from the config table."""

    def __init__(self, dynamodb: Any, config_table: str) -> None:
        self._dynamodb = dynamodb
        self._config_table = config_table

    def seen(self, model: str) -> dict[str, int]:
        response = self._dynamodb.query(
            TableName=self._config_table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :alias)",
            ExpressionAttributeValues={
                ":pk": {"S": MLFLOW_KEY_PREFIX + model},
                ":alias": {"S": ALIAS_KEY_PREFIX},
            },
            ConsistentRead=True,
        )
        return {
            item["sk"]["S"].removeprefix(ALIAS_KEY_PREFIX): int(item["version"]["N"])
            for item in response.get("Items", [])
            if "version" in item  # an item without a version: the alias was removed
        }
