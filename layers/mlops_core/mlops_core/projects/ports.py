"""What the project lifecycle needs from outside, in its own terms: the model registry's groups and
the store of project records. :mod:`mlops_core.adapters.sagemaker` and
:mod:`mlops_core.adapters.project_store` implement these ports (the git providers are
:class:`mlops_core.adapters.git_providers.GitProvider`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mlops_core.contract.project_record import ProjectRecord


class RegistryError(RuntimeError):
    """The model registry refused a change; the message says which group and why."""


class ModelGroupPort(Protocol):
    """Model package groups; every method raises :class:`RegistryError` when the registry refuses."""

    def model_group_exists(self, name: str) -> bool: ...

    def create_model_group(self, name: str, *, description: str, tags: Mapping[str, str]) -> None:
        """Create the group; one of that name already there is fine."""
        ...

    def model_group_has_versions(self, name: str) -> bool: ...
    def delete_model_group(self, name: str) -> None: ...


class ProjectStorePort(Protocol):
    def get(self, project: str) -> ProjectRecord | None: ...
    def put(self, record: ProjectRecord) -> None: ...
