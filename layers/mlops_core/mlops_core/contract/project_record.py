"""Projects: what a data scientist asks for (the custom resource's properties) and what the control
plane remembers about it (the project record, ``PROJECT#{project}`` / ``META`` in the config table).

The record is what the other functions read: the scenario and registry backend (which groups and
endpoints exist), the repository (where promotions come from), the deployment defaults per stage
(how the deployer sizes an endpoint) and the project's own Slack channel secret, if it has one.

The deployment defaults per stage are the deployer's own model
(:class:`mlops_core.contract.deployment_settings.StageDeploymentSettings`), so a project whose defaults the
deployer could not apply is refused when it is created, not at its first deployment.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from mlops_core.contract.deployment_settings import StageDeploymentSettings
from mlops_core.contract.git_provider_name import GitProviderName
from mlops_core.contract.naming import MAX_PROJECT_LENGTH, stage_resource_name, validate_project_name
from mlops_core.contract.slack_approvals import SlackApprovers
from mlops_core.contract.topology import Scenario, Stage, stages_of

PROJECT_KEY_PREFIX = "PROJECT#"
PROJECT_META = "META"
PROJECTS_BY_REGISTRY_INDEX = "ProjectsByRegistry"
"""The config table's global secondary index of the project records by ``registry_backend`` (template.yaml,
ConfigTable). Only project records have that attribute, so the index holds them and nothing else: the
MLflow alias watcher finds its projects with one Query, whatever else the table holds."""
# Repository names that every provider accepts (CodeCommit's and GitHub's rules intersected; GitLab
# also refuses a path ending in .git or .atom, which it says when the project is created).
_REPOSITORY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class RegistryBackend(StrEnum):
    SAGEMAKER = "sagemaker"
    MLFLOW = "mlflow"


class RepositoryRetention(StrEnum):
    """What deleting the project does to its repository. Retaining is the default: code is work."""

    RETAIN = "retain"
    ARCHIVE = "archive"
    DELETE = "delete"


class ModelGroupRetention(StrEnum):
    """What deleting the project does to its model groups. A group holding versions is always kept."""

    RETAIN = "retain"
    DELETE_IF_EMPTY = "delete-if-empty"


def _json_object(value: Any) -> Any:
    """Service Catalog passes parameters as strings, so an object may arrive as JSON text."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else {}
    return value


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


_INSTANCE_KEYS = ("instance_type", "instance_count")
_SERVERLESS_KEYS = ("serverless_memory_mb", "serverless_max_concurrency")


def _stage_defaults_as_sent(value: Any) -> Any:
    """Numbers that arrived as text become numbers (CloudFormation sends strings), and a stage asking
    for instances and serverless at once is refused (the deployer's model would keep only one)."""
    if not isinstance(value, dict):
        return value
    stages = {}
    for stage, sent in value.items():
        if not isinstance(sent, dict):
            stages[stage] = sent
            continue
        settings = {
            key: int(item) if isinstance(item, str) and item.strip().isdigit() else item
            for key, item in sent.items()
        }
        instances = any(settings.get(key) is not None for key in _INSTANCE_KEYS)
        serverless = any(settings.get(key) is not None for key in _SERVERLESS_KEYS)
        if instances and serverless:
            raise ValueError(f"{stage}: set either instance_* or serverless_*, not both")
        stages[stage] = settings
    return stages


# Per stage, the deployer's own model (flat ``instance_type``/``instance_count``/``serverless_*``/
# ``strategy``/``alarms`` or its full shape), validated when the project is created or updated.
DeploymentDefaults = Annotated[
    dict[Stage, StageDeploymentSettings],
    BeforeValidator(_stage_defaults_as_sent),
    BeforeValidator(_json_object),
]


class ProjectProperties(BaseModel):
    """The custom resource's properties, as the Service Catalog product sends them.

    CloudFormation sends every scalar as a string; blank optional values mean "not set".
    Validation happens before anything is created, so a malformed request changes nothing.
    """

    # defer_build (here and on the record): built on first use, by the functions that read projects.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    project: str = Field(alias="SageMakerProjectName", min_length=1, max_length=MAX_PROJECT_LENGTH)
    project_id: str = Field(
        alias="SageMakerProjectId", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$"
    )
    scenario: Scenario = Field(default=Scenario.BASELINE, alias="Scenario")
    registry_backend: RegistryBackend = Field(default=RegistryBackend.SAGEMAKER, alias="RegistryBackend")
    git_provider: Annotated[GitProviderName | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, alias="GitProvider"
    )
    repository: Annotated[str | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, alias="RepositoryName"
    )
    repository_retention: RepositoryRetention = Field(
        default=RepositoryRetention.RETAIN, alias="RepositoryRetention"
    )
    model_group_retention: ModelGroupRetention = Field(
        default=ModelGroupRetention.RETAIN, alias="ModelGroupRetention"
    )
    deployment_defaults: DeploymentDefaults = Field(default_factory=dict, alias="DeploymentDefaults")
    slack_webhook_secret: Annotated[str | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, alias="SlackWebhookSecret"
    )
    # Per stage, the Slack member ids who may approve or reject its versions from Slack (JSON, e.g.
    # {"prod": ["U0123ABCD"], "dev": ["U0456EFGH"]}); a stage without a list has no Slack buttons.
    slack_approvers: Annotated[SlackApprovers, BeforeValidator(_json_object)] = Field(
        default_factory=dict, alias="SlackApprovers"
    )
    # A failed integration test run sets the feature/dev version to Rejected (the deployer rolls back).
    # CloudFormation sends "true"/"false"; blank means the default.
    reject_on_test_failure: Annotated[bool, BeforeValidator(lambda v: _blank_is_none(v) or False)] = Field(
        default=False, alias="RejectOnTestFailure"
    )
    # MLflow backend: the registered model that stands for the project (default: the project's name)
    # and the image that serves its versions (e.g. an MLflow pyfunc serving image in ECR).
    mlflow_model_name: Annotated[str | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, alias="MlflowModelName"
    )
    mlflow_serving_image: Annotated[str | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, alias="MlflowServingImage"
    )

    @field_validator("project")
    @classmethod
    def _follows_sagemaker_naming(cls, value: str) -> str:
        validate_project_name(value)
        return value

    @field_validator("repository")
    @classmethod
    def _valid_repository_name(cls, value: str | None) -> str | None:
        if value is not None and (not _REPOSITORY_NAME.match(value) or value.endswith(".git")):
            raise ValueError(
                f"repository name {value!r} must be 1-100 letters, digits, '.', '_' or '-', "
                "start with a letter or digit, and not end in .git"
            )
        return value

    @model_validator(mode="after")
    def _defaults_only_for_the_scenarios_stages(self) -> ProjectProperties:
        unknown_approvers = set(self.slack_approvers) - set(stages_of(self.scenario))
        if unknown_approvers:
            raise ValueError(
                f"SlackApprovers names stages {sorted(unknown_approvers)} that a {self.scenario} project "
                f"does not have (it has {[stage.value for stage in stages_of(self.scenario)]})"
            )
        unknown = set(self.deployment_defaults) - set(stages_of(self.scenario))
        if unknown:
            raise ValueError(
                f"DeploymentDefaults names stages {sorted(unknown)} that a {self.scenario} project "
                f"does not have (it has {[stage.value for stage in stages_of(self.scenario)]})"
            )
        for stage, settings in self.deployment_defaults.items():
            if settings.compute is not None:  # otherwise the stack's default instances apply later
                try:
                    settings.check_strategy()
                except ValueError as error:
                    raise ValueError(f"DeploymentDefaults.{stage}: {error}") from None
        return self

    @property
    def repository_name(self) -> str:
        return self.repository or self.project


def model_group_names(project: str, scenario: Scenario, backend: RegistryBackend) -> tuple[str, ...]:
    """The model groups a project has: one per stage, none when MLflow is the registry."""
    if backend is RegistryBackend.MLFLOW:
        return ()
    return tuple(stage_resource_name(project, stage) for stage in stages_of(scenario))


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class ProjectRecord(BaseModel):
    """``PROJECT#{project}`` / ``META``: everything the other functions need to know about a project."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    project: str
    project_id: str
    status: ProjectStatus = ProjectStatus.ACTIVE
    scenario: Scenario
    registry_backend: RegistryBackend
    git_provider: GitProviderName
    repository_name: str
    repository_url: str
    repository_retention: RepositoryRetention
    model_group_retention: ModelGroupRetention
    model_groups: tuple[str, ...] = ()
    deployment_defaults: dict[Stage, StageDeploymentSettings] = Field(default_factory=dict)
    slack_webhook_secret: str | None = None
    slack_approvers: SlackApprovers = Field(default_factory=dict)  # read by the Slack approvals function
    reject_on_test_failure: bool = False  # read by the endpoint tester
    mlflow_model_name: str | None = None
    mlflow_serving_image: str | None = None
    stack_id: str | None = None
    created_at: str
    updated_at: str
    deleted_at: str | None = None

    @staticmethod
    def key(project: str) -> dict[str, str]:
        return {"pk": PROJECT_KEY_PREFIX + project, "sk": PROJECT_META}

    def to_item(self) -> dict[str, Any]:
        item = {**self.key(self.project), **self.model_dump(mode="json", exclude_none=True)}
        # Only what the project set: the deployer applies its own defaults at deployment time.
        item["deployment_defaults"] = {
            stage.value: settings.model_dump(mode="json", exclude_unset=True, exclude_none=True)
            for stage, settings in self.deployment_defaults.items()
        }
        return item


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


__all__ = [
    "DeploymentDefaults",
    "GitProviderName",
    "ModelGroupRetention",
    "ProjectProperties",
    "ProjectRecord",
    "ProjectStatus",
    "RegistryBackend",
    "RepositoryRetention",
    "model_group_names",
    "utc_now",
]
