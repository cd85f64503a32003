"""The project lifecycle's settings (its environment in template.yaml), validated at its cold start."""

from typing import Annotated

from pydantic import BeforeValidator, Field

from mlops_core.contract.git_provider_name import GitProviderName
from mlops_core.settings import SCHEDULE_GROUP_NAME_PATTERN, ControlPlaneSettings, blank_is_none


class ProjectLifecycleSettings(ControlPlaneSettings):
    """The project-lifecycle function: where the seed code lives, which git provider a project gets
    when it names none, and how to reach GitHub and GitLab (optional)."""

    seed_code_dir: str = Field(alias="SEED_CODE_DIR", min_length=1)
    default_git_provider: GitProviderName = Field(alias="DEFAULT_GIT_PROVIDER")
    github_organization: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None, alias="GITHUB_ORGANIZATION"
    )
    github_token_secret_name: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None, alias="GITHUB_TOKEN_SECRET_NAME"
    )
    github_template_repository: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None, alias="GITHUB_TEMPLATE_REPOSITORY", pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
    )
    github_api_url: str = Field(default="https://api.github.com", alias="GITHUB_API_URL")
    github_protect_prod: bool = Field(default=True, alias="GITHUB_PROTECT_PROD")
    gitlab_group: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None, alias="GITLAB_GROUP", pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$"
    )
    gitlab_token_secret_name: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None, alias="GITLAB_TOKEN_SECRET_NAME"
    )
    gitlab_url: str = Field(default="https://gitlab.com", alias="GITLAB_URL", pattern=r"^https://[^/]+")
    gitlab_api_url: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None, alias="GITLAB_API_URL"
    )

    # The projects' CI access (docs/ci.md): the OIDC providers GitHub's and GitLab's tokens come from,
    # where CI roles are created and the policy that is both their permissions and their boundary, and
    # what CI is told.
    github_oidc_provider_arn: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None, alias="GITHUB_OIDC_PROVIDER_ARN"
    )
    gitlab_oidc_provider_arn: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None, alias="GITLAB_OIDC_PROVIDER_ARN"
    )
    gitlab_oidc_audience: str = Field(default="sts.amazonaws.com", alias="GITLAB_OIDC_AUDIENCE", min_length=1)
    ci_role_path: str = Field(alias="CI_ROLE_PATH", pattern=r"^/([\w+=,.@-]+/)*$")
    ci_role_policy_arn: str = Field(
        alias="CI_ROLE_POLICY_ARN", pattern=r"^arn:aws[a-z-]*:iam::\d{12}:policy/"
    )
    ci_artifact_bucket: str = Field(alias="CI_ARTIFACT_BUCKET", min_length=3)
    sagemaker_pipeline_role_arn: str = Field(alias="SAGEMAKER_PIPELINE_ROLE_ARN", min_length=1)
    region: str = Field(alias="AWS_REGION", min_length=1)  # Lambda's own, not the template's
    # CodeCommit projects' CI (docs/ci.md): the stack's shared CodeBuild project, and the role
    # EventBridge starts it as; without them, a CodeCommit project gets no CI role and no push trigger.
    # The batch stages' schedules ({project}-{stage}, docs/batch-stages.md): deleted with their project.
    batch_schedule_group_name: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None, alias="BATCH_SCHEDULE_GROUP_NAME", pattern=SCHEDULE_GROUP_NAME_PATTERN
    )
    ci_build_project_arn: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None,
        alias="CI_BUILD_PROJECT_ARN",
        pattern=r"^arn:aws[a-z-]*:codebuild:[a-z0-9-]+:\d{12}:project/[A-Za-z0-9][A-Za-z0-9_-]{1,254}$",
    )
    ci_build_trigger_role_arn: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None, alias="CI_BUILD_TRIGGER_ROLE_ARN", pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/"
    )
