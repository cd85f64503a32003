"""The MLflow alias watcher's poll against a growing config table: DynamoDB calls, finding projects by
key (the `ProjectsByRegistry` index) and, side by side, by the Scan it replaced.

Run with `.venv/bin/python benchmarks/watcher_poll.py` (or `make bench`, all benchmarks). It opens a
`LocalCloud` (the real template, so the real config table with its index) and puts 20 MLflow projects
in the config table, each with an alias already seen, then fills the table with what accumulates
beside them: integration test runs (with their results, about 1.5 KB each), promotion records, alias
state of other models and SageMaker projects. At each table size it runs one steady-state poll (no
alias changed) twice: with the watcher's state adapter as deployed (`AliasStateTable`: one Query of
the index) and with the same adapter finding the projects by a filtered Scan, as it did before, and
counts every DynamoDB call each makes (the MLflow registry is an in-process fake that answers the
aliases already seen: the benchmark counts the table's cost, not MLflow's). Target: the deployed
poll's calls do not grow with the table (the same count at every size). Exit status 1 if missed.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.client import BaseClient
from mlops_core.adapters import mlflow_alias_table
from mlops_core.adapters.mlflow_alias_table import AliasStateTable
from mlops_core.contract.project_record import (
    PROJECT_KEY_PREFIX,
    PROJECT_META,
    ProjectRecord,
    RegistryBackend,
)
from mlops_core.mlflow_aliases.alias_watcher import MlflowAliasWatcher
from mlops_core.mlflow_aliases.ports import ModelVersion
from mlops_core.mlflow_aliases.settings import MlflowWatcherSettings
from mlops_local import LocalCloud

MLFLOW_PROJECTS = 20
SIZES = (1_000, 20_000)
NOW = "2026-11-25T18:30:00+00:00"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:3"
RUN_RESULTS = "r" * 1500  # an integration test run's results, about their usual size


class SeenRegistry:
    """MLflow as the last poll left it: every project's `dev` alias on version 1."""

    def aliases(self, model: str) -> dict[str, int] | None:
        return {"dev": 1}

    def model_version(self, model: str, version: int) -> ModelVersion:
        return ModelVersion(model, version)


class ScanningAliasStateTable(AliasStateTable):
    """The adapter as it was: the MLflow projects found by a Scan of the whole table, filtered."""

    def _query_mlflow_projects(self) -> Iterator[dict[str, Any]]:
        paginator = self._dynamodb.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self._config_table,
            FilterExpression="begins_with(pk, :prefix) AND sk = :meta AND registry_backend = :mlflow",
            ExpressionAttributeValues={
                ":prefix": {"S": PROJECT_KEY_PREFIX},
                ":meta": {"S": PROJECT_META},
                ":mlflow": {"S": RegistryBackend.MLFLOW.value},
            },
            ConsistentRead=True,
        ):
            for item in page.get("Items", []):
                yield mlflow_alias_table._plain(
                    {name: mlflow_alias_table._deserializer.deserialize(v) for name, v in item.items()}
                )


def _record(project: str, backend: str) -> dict[str, Any]:
    record = ProjectRecord(
        project=project, project_id=f"p-{project}", scenario="baseline", registry_backend=backend,
        git_provider="local", repository_name=project, repository_url="file:///dev/null",
        repository_retention="retain", model_group_retention="retain", created_at=NOW, updated_at=NOW,
        mlflow_serving_image=IMAGE if backend == "mlflow" else None,
    )  # fmt: skip
    serializer = TypeSerializer()
    return {name: serializer.serialize(value) for name, value in record.to_item().items()}


def _filler(index: int) -> dict[str, Any]:
    """The index-th item that is not an MLflow project: what a table gathers over months."""
    kind = index % 10
    if kind < 6:
        return {"pk": {"S": f"ENDPOINT#e{index % 400}-dev"}, "sk": {"S": f"RUN#{index:08d}"},
                "status": {"S": "passed"}, "results": {"S": RUN_RESULTS}}  # fmt: skip
    if kind < 8:
        return {"pk": {"S": f"PROMOTION#arn:aws:sagemaker:us-east-1:123456789012:model-package/g{index}/1"},
                "sk": {"S": f"123456789012#{index:064x}"}, "state": {"S": "done"}}  # fmt: skip
    if kind < 9:
        return {"pk": {"S": f"MLFLOW#other{index}"}, "sk": {"S": "ALIAS#dev"}, "version": {"N": "3"}}
    return _record(f"sm{index}", "sagemaker")


def _put(dynamodb: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        while request:
            request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


@dataclass
class PollCalls:
    """One steady-state poll at one table size: the DynamoDB calls of each way of finding projects."""

    items: int
    by_key: dict[str, int]
    by_scan: dict[str, int]

    @property
    def by_key_total(self) -> int:
        return sum(self.by_key.values())

    @property
    def by_scan_total(self) -> int:
        return sum(self.by_scan.values())


def _counted_poll(watcher: MlflowAliasWatcher) -> dict[str, int]:
    calls: collections.Counter[str] = collections.Counter()
    original = BaseClient._make_api_call

    def counting(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls[operation] += 1
        return original(client, operation, params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        changes = watcher.detect()
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
    if changes:
        raise RuntimeError(f"a steady-state poll found changes: {changes}")
    return dict(sorted(calls.items()))


def measure(sizes: tuple[int, ...] = SIZES) -> list[PollCalls]:
    results = []
    with LocalCloud() as cloud:
        environment = cloud.functions["MlflowAliasWatcherFunction"].environment
        settings = MlflowWatcherSettings.from_environ(
            {**environment, "MLFLOW_TRACKING_URI": "http://mlflow.invalid"}
        )
        dynamodb = cloud.session.client("dynamodb")
        table = settings.config_table_name
        projects = [_record(f"ml{i}", "mlflow") for i in range(MLFLOW_PROJECTS)]
        seen = [
            {"pk": {"S": f"MLFLOW#ml{i}"}, "sk": {"S": "ALIAS#dev"}, "version": {"N": "1"}}
            for i in range(MLFLOW_PROJECTS)
        ]
        _put(dynamodb, table, projects + seen)
        filled = len(projects) + len(seen)
        for size in sizes:
            _put(dynamodb, table, [_filler(index) for index in range(filled, size)])
            filled = max(filled, size)
            watchers = {
                name: MlflowAliasWatcher(
                    settings, SeenRegistry(), adapter(dynamodb, table, settings.idempotency_table_name)
                )
                for name, adapter in (("key", AliasStateTable), ("scan", ScanningAliasStateTable))
            }
            results.append(PollCalls(filled, _counted_poll(watchers["key"]), _counted_poll(watchers["scan"])))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    started = time.perf_counter()
    results = measure(tuple(args.sizes))
    for result in results:
        print(
            f"{result.items:6} items: by key {result.by_key_total:3} calls {result.by_key}; "
            f"by Scan {result.by_scan_total:3} calls {result.by_scan}"
        )
    met = len({r.by_key_total for r in results}) == 1
    print(f"took {time.perf_counter() - started:.0f} s")
    print("OK: the poll's calls do not grow with the table" if met else "TARGET MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
