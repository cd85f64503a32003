"""What the project lifecycle needs from outside, in its own terms: a git provider (the repository),
the model registry's groups and the store of project records. :mod:`mlops_core.adapters.git_providers`,
:mod:`mlops_core.adapters.sagemaker` and :mod:`mlops_core.adapters.project_store` implement these
ports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mlops_core.contract.project_record import GitProviderName, ProjectRecord, RepositoryRetention


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


class GitProviderError(RuntimeError):
    """A git provider refused or failed; the message says what to fix."""


@dataclass(frozen=True)
class SeedFile:
    path: str  # relative, with forward slashes
    content: bytes
    executable: bool = False


@dataclass(frozen=True)
class Repository:
    provider: GitProviderName
    name: str
    url: str  # what `git clone` takes
    created: bool  # False when it already existed


class GitProvider(Protocol):
    name: GitProviderName

    def ensure_repository(
        self, name: str, *, description: str, files: Sequence[SeedFile], tags: dict[str, str]
    ) -> Repository:
        """The repository, created if missing, with ``files`` committed on ``prod`` and ``dev``
        branched from ``prod`` (each only if that branch does not exist yet)."""
        ...

    def retire_repository(self, name: str, retention: RepositoryRetention) -> str:
        """Apply the retention policy to a deleted project's repository; say what was done."""
        ...
