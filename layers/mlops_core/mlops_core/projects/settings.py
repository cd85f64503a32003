"""The project lifecycle's settings (its environment in template.yaml), validated at its cold start."""

from typing import Annotated

from pydantic import BeforeValidator, Field

from mlops_core.contract.git_provider_name import GitProviderName
from mlops_core.settings import ControlPlaneSettings, blank_is_none


class ProjectLifecycleSettings(ControlPlaneSettings):
    """The project-lifecycle function: where the seed code lives, which git provider a project gets
    when it names none, and how to reach GitHub (optional)."""

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
