"""Function settings: the environment the template gives each function, validated at cold start.

A wrong or missing variable fails the first invocation with a message that names it, instead
of failing later in the middle of a deployment.
"""

from collections.abc import Mapping
from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from mlops_core.contract.git_provider_name import GitProviderName
from mlops_core.contract.topology import Stage, parse_stages

StageSet = Annotated[
    frozenset[Stage], BeforeValidator(lambda v: parse_stages(v) if isinstance(v, str) else v)
]


class ControlPlaneSettings(BaseModel):
    """What every function of the control plane is given.

    ``defer_build``: one module holds every function's settings, and a function validates only its
    own (at its first invocation), so none of the others' validators is built in its cold start.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    stack_name: str = Field(alias="STACK_NAME", min_length=1)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    config_table_name: str = Field(alias="CONFIG_TABLE_NAME", min_length=1)
    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME", min_length=1)
    deployed_stages: StageSet = Field(alias="DEPLOYED_STAGES")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        return cls.model_validate(dict(environ))


def _comma_separated(value: object) -> object:
    if not isinstance(value, str):
        return value
    return frozenset(part.strip() for part in value.split(",") if part.strip())


AccountIds = Annotated[
    frozenset[Annotated[str, Field(pattern=r"^\d{12}$")]], BeforeValidator(_comma_separated)
]


class DeployerSettings(ControlPlaneSettings):
    """The deployer. ``registry_account_ids``: the accounts whose model versions it deploys (its own,
    and ``RegistryAccountId``'s when the registry is elsewhere); ``region``: its own (Lambda's
    ``AWS_REGION``): a version's ARN must name both."""

    sagemaker_execution_role_arn: str = Field(
        alias="SAGEMAKER_EXECUTION_ROLE_ARN", pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$"
    )
    registry_account_ids: AccountIds = Field(alias="REGISTRY_ACCOUNT_IDS", min_length=1)
    region: str = Field(alias="AWS_REGION", min_length=1)
    default_instance_type: str = Field(alias="DEFAULT_INSTANCE_TYPE", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    default_instance_count: int = Field(alias="DEFAULT_INSTANCE_COUNT", ge=1)


class TesterSettings(ControlPlaneSettings):
    test_run_retention_days: int = Field(alias="TEST_RUN_RETENTION_DAYS", ge=1, le=3650)


class NotifierSettings(ControlPlaneSettings):
    slack_webhook_secret_arn: str = Field(alias="SLACK_WEBHOOK_SECRET_ARN", min_length=1)


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class ProjectLifecycleSettings(ControlPlaneSettings):
    """The project-lifecycle function: where the seed code lives, which git provider a project gets
    when it names none, and how to reach GitHub (optional)."""

    seed_code_dir: str = Field(alias="SEED_CODE_DIR", min_length=1)
    default_git_provider: GitProviderName = Field(alias="DEFAULT_GIT_PROVIDER")
    github_organization: Annotated[str | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, alias="GITHUB_ORGANIZATION"
    )
    github_token_secret_name: Annotated[str | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, alias="GITHUB_TOKEN_SECRET_NAME"
    )
    github_template_repository: Annotated[str | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, alias="GITHUB_TEMPLATE_REPOSITORY", pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
    )
    github_api_url: str = Field(default="https://api.github.com", alias="GITHUB_API_URL")
    github_protect_prod: bool = Field(default=True, alias="GITHUB_PROTECT_PROD")


class ReaperSettings(ControlPlaneSettings):
    """The endpoint reaper. Production stages in ``REAPABLE_STAGES`` are ignored, never reaped."""

    reapable_stages: StageSet = Field(alias="REAPABLE_STAGES")
    dry_run: bool = Field(default=False, alias="REAPER_DRY_RUN")


class ArtifactCopierSettings(ControlPlaneSettings):
    """The artifact copier: where promoted artifacts go by default, and the copies' approval status."""

    promoted_artifact_bucket: str = Field(alias="PROMOTED_ARTIFACT_BUCKET", min_length=3)
    promotion_approval_status: Literal["PendingManualApproval", "Approved"] = Field(
        default="PendingManualApproval", alias="PROMOTION_APPROVAL_STATUS"
    )


class MlflowWatcherSettings(ControlPlaneSettings):
    """The MLflow alias watcher: the tracking server (blank = the MLflow path is off), where its token
    and the webhook's HMAC secret are kept, and which aliases map to which stages."""

    mlflow_tracking_uri: Annotated[str | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, alias="MLFLOW_TRACKING_URI"
    )
    mlflow_token_secret_name: Annotated[str | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, alias="MLFLOW_TOKEN_SECRET_NAME"
    )
    mlflow_webhook_secret_name: Annotated[str | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, alias="MLFLOW_WEBHOOK_SECRET_NAME"
    )
    mlflow_aliases: str = Field(default="feature,dev,prod,champion,challenger", alias="MLFLOW_ALIASES")
