"""What the project lifecycle needs from outside, in its own terms: a git provider (the repository),
the model registry's groups and the store of project records. :mod:`mlops_core.adapters.git_providers`,
:mod:`mlops_core.adapters.sagemaker` and :mod:`mlops_core.adapters.project_store` implement these
ports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

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


# --------------------------------------------------------------------------------------- CI access


@dataclass(frozen=True)
class CiTrust:
    """Who may assume a project's CI role: tokens of one OIDC identity provider whose audience is
    ``audience`` and whose subject matches one of ``subjects`` (IAM ``StringLike`` patterns)."""

    provider_arn: str  # the IAM OIDC identity provider
    issuer: str  # host and path, the condition keys' prefix (token.actions.githubusercontent.com, gitlab.com)
    audience: str
    subjects: tuple[str, ...]


@dataclass(frozen=True)
class CiServiceTrust:
    """Who may assume a project's CI role when an AWS service runs its CI: ``service`` (a service
    principal, ``codebuild.amazonaws.com``) acting for ``source_arn`` in ``source_account`` only (the
    ``aws:SourceArn`` and ``aws:SourceAccount`` conditions IAM recommends against the confused deputy)."""

    service: str
    source_arn: str
    source_account: str


class CiAccessError(RuntimeError):
    """The project's CI role could not be made or removed; the message says which and why."""


class CiRolePort(Protocol):
    """The per-project roles a repository's CI assumes, through OIDC or as an AWS service (no stored
    keys)."""

    def ensure_ci_role(self, project: str, trust: CiTrust | CiServiceTrust) -> str:
        """The project's CI role, created or brought to ``trust``; its ARN."""
        ...

    def delete_ci_role(self, project: str) -> str:
        """Remove the project's CI role; say what was done ("deleted", "absent")."""
        ...


@runtime_checkable
class CiConfigurableProvider(Protocol):
    """A git provider whose CI runs outside AWS and assumes the project's CI role with an OIDC token
    (GitHub Actions, GitLab CI/CD): it says who to trust and holds the CI variables in the repository's
    settings."""

    def ci_trust(self, repository: str) -> CiTrust: ...

    def set_ci_variables(self, repository: str, variables: Mapping[str, str]) -> None:
        """Create or update each variable (idempotent)."""
        ...

    def remove_ci_variables(self, repository: str, names: Sequence[str]) -> tuple[str, ...]:
        """Remove those that are there (none is an error); the names removed."""
        ...


@dataclass(frozen=True)
class BuildSource:
    """A repository as an AWS build service fetches it: its ARN (what its push events name in
    ``resources``) and the URL a build clones."""

    repository_arn: str
    clone_url: str


@runtime_checkable
class AwsBuiltProvider(Protocol):
    """A git provider in AWS whose pushes start the stack's shared CodeBuild project (CodeCommit): an
    EventBridge rule per project matches the pushes to its repository and starts a build as the
    project's CI role."""

    def build_source(self, repository: str) -> BuildSource: ...


class CiBuildTriggerPort(Protocol):
    """The per-project push triggers of the shared CodeBuild project."""

    @property
    def trust(self) -> CiServiceTrust:
        """Who the CI role of a project built by this trigger must trust (CodeBuild, for the shared
        project)."""
        ...

    def ensure_trigger(
        self, project: str, source: BuildSource, role_arn: str, variables: Mapping[str, str]
    ) -> str:
        """The project's trigger, created or brought up to date (idempotent); its name."""
        ...

    def remove_trigger(self, project: str) -> str:
        """Remove the project's trigger; say what was done ("deleted", "absent")."""
        ...


class BatchSchedulesPort(Protocol):
    """The batch stages' schedules (EventBridge Scheduler, the stack's group), named ``{project}-{stage}``."""

    def delete(self, name: str) -> bool:
        """Delete schedule ``name``; False if there is none."""
        ...
