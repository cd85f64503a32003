"""The deployer's ports: what it needs of SageMaker, CloudWatch and the config table, the values they
speak, and the errors they raise (the adapters in mlops_core.adapters implement them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from mlops_core.contract.aws_events import ModelApprovalStatus
from mlops_core.contract.endpoints import Endpoint, EndpointConfig


@dataclass(frozen=True)
class ModelPackage:
    arn: str
    group: str
    version: int
    approval_status: ModelApprovalStatus
    commit_id: str | None = None
    dataset: str | None = None
    has_metrics: bool = False

    def missing_lineage(self, required: Iterable[str]) -> list[str]:
        """Which of ``commit-id``, ``dataset``, ``metrics`` the version does not carry."""
        present = {
            "commit-id": bool(self.commit_id),
            "dataset": bool(self.dataset),
            "metrics": self.has_metrics,
        }
        return sorted(field for field in required if not present.get(field, False))


@dataclass(frozen=True)
class ManagedResource:
    """A model or endpoint config listed for housekeeping."""

    name: str
    creation_time: datetime


class ResourceConflictError(RuntimeError):
    """A create found a resource of the same name that is not the one it would have made."""


class EndpointBusyError(RuntimeError):
    """UpdateEndpoint refused: the endpoint is being created, updated or rolled back."""


class SageMakerPort(Protocol):
    def describe_model_package(self, arn: str) -> ModelPackage | None: ...
    def list_approved_versions(self, group: str) -> list[int]: ...
    def describe_endpoint(self, name: str) -> Endpoint | None: ...
    def find_endpoint(self, name: str) -> Endpoint | None: ...
    def describe_endpoint_config(self, name: str) -> EndpointConfig | None: ...
    def create_model(
        self, name: str, *, request: Mapping[str, Any], execution_role_arn: str, tags: Mapping[str, str]
    ) -> None: ...
    def model_container(self, name: str) -> dict[str, Any] | None: ...
    def create_endpoint_config(
        self, name: str, *, request: Mapping[str, Any], tags: Mapping[str, str]
    ) -> None: ...
    def create_endpoint(self, name: str, *, config_name: str, tags: Mapping[str, str]) -> bool: ...
    def update_endpoint(
        self, name: str, *, config_name: str, deployment_config: Mapping[str, Any] | None = None
    ) -> None: ...
    def delete_endpoint(self, name: str) -> None: ...
    def tag(self, arn: str, tags: Mapping[str, str]) -> None: ...
    def list_tags(self, arn: str) -> dict[str, str]: ...
    def list_models(self, name_prefix: str) -> list[ManagedResource]: ...
    def list_endpoint_configs(self, name_prefix: str) -> list[ManagedResource]: ...
    def delete_model(self, name: str) -> None: ...
    def delete_endpoint_config(self, name: str) -> None: ...


class AlarmsPort(Protocol):
    def put_alarm(self, definition: Mapping[str, Any], *, tags: Mapping[str, str]) -> None: ...
    def existing(self, names: Sequence[str]) -> list[str]: ...
    def delete(self, names: Sequence[str]) -> None: ...


class ConfigTablePort(Protocol):
    def get_project(self, project: str) -> dict[str, Any] | None: ...
    def get_pending_deployment(self, endpoint_name: str) -> dict[str, Any] | None: ...
    def put_pending_deployment(
        self, endpoint_name: str, deployment: dict[str, Any], *, version: int
    ) -> bool: ...
    def replace_pending_deployment(
        self, endpoint_name: str, deployment: dict[str, Any], *, version: int
    ) -> bool: ...
    def delete_pending_deployment(self, endpoint_name: str, *, version: int) -> None: ...
    def claim_rollback_announcement(
        self, endpoint_name: str, endpoint_config_name: str, *, started: int, event_id: str, expires_at: int
    ) -> bool: ...
