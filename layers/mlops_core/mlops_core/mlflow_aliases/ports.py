"""The alias watcher's port: what it needs of an MLflow tracking server, and what it reads there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from mlops_core.contract.naming import model_version_uri


class MlflowUnavailableError(RuntimeError):
    """The tracking server could not be reached or answered with an error."""


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    source: str | None = None
    run_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return model_version_uri(self.name, self.version)


class MlflowRegistryPort(Protocol):
    def aliases(self, model: str) -> dict[str, int] | None: ...
    def model_version(self, model: str, version: int) -> ModelVersion: ...
