"""The MLflow alias watcher's event (source ``mlops.mlflow-alias-watcher``): an alias assigned, moved
or removed, which the deployer takes as an approval (or a rejection).
"""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
from typing import Any, ClassVar

from pydantic import Field

from mlops_core.contract.events.base import DomainEvent
from mlops_core.contract.topology import Stage


class MlflowModelAliasChanged(DomainEvent):
    """An MLflow alias of a project's registered model now names another version (or none): seen by
    the alias watcher's poll or received from a self-hosted MLflow 3 webhook. First sight of an
    alias counts as a change (``old_version`` unset); a removed alias has no ``new_version``."""

    DETAIL_TYPE: ClassVar[str] = "MLflow Model Alias Changed"
    COMPONENT: ClassVar[str] = "mlflow-alias-watcher"
    project: str
    stage: Stage = Field(description="the stage the alias maps to (`MlflowAliases`)")
    model: str = Field(description="the MLflow registered model name")
    alias: str
    old_version: int | None = Field(default=None, description="unset at first sight")
    new_version: int | None = Field(default=None, description="unset when the alias was removed")
    source_uri: str | None = Field(
        default=None, description="the new version's artifact location (MLflow's `source`; an S3 URI)"
    )
    run_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict, description="the new version's MLflow tags")
    trigger: str = Field(default="poll", description="`poll` (schedule) or `webhook`")

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "stage": "dev",
        "model": "churn",
        "alias": "dev",
        "old_version": 2,
        "new_version": 3,
        "source_uri": "s3://mlflow-artifacts/1/models/m-4f2a9c/artifacts",
        "run_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "tags": {"git_commit": "5a2a5b1"},
        "trigger": "poll",
    }
