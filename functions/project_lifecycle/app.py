"""ProjectLifecycleFunction: a SageMaker project's custom resource (repository, CI access, model groups,
record)."""

from collections.abc import Callable
from pathlib import Path

from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.adapters.ci_build_triggers import EventBridgeCiBuildTriggers
from mlops_core.adapters.git_providers import (
    CodeCommitProvider,
    GitHubProvider,
    GitLabProvider,
    added_git_providers,
    load_seed_code,
    secrets_manager_token,
)
from mlops_core.adapters.iam_ci_roles import IamCiRoles
from mlops_core.adapters.project_store import ProjectStore
from mlops_core.adapters.sagemaker import ModelRegistryAdapter
from mlops_core.adapters.scheduler import SchedulerBatchSchedules
from mlops_core.contract.git_provider_name import GitProviderName
from mlops_core.handlers.custom_resource import CustomResourceFunction
from mlops_core.projects.ci_access import CiAccess, CiEnvironment
from mlops_core.projects.lifecycle import ProjectLifecycle
from mlops_core.projects.ports import GitProvider, GitProviderError
from mlops_core.projects.settings import ProjectLifecycleSettings


def build(settings: ProjectLifecycleSettings, clients: ClientFactory) -> ProjectLifecycle:
    def github() -> GitProvider:
        if not settings.github_organization or not settings.github_token_secret_name:
            raise GitProviderError(
                "the github provider needs the stack parameters GitHubOrganization and GitHubTokenSecretName"
            )
        return GitHubProvider(
            organization=settings.github_organization,
            token=secrets_manager_token(clients("secretsmanager"), settings.github_token_secret_name),
            api_url=settings.github_api_url,
            protect_prod=settings.github_protect_prod,
            template_repository=settings.github_template_repository,
            oidc_provider_arn=settings.github_oidc_provider_arn,
        )

    def gitlab() -> GitProvider:
        if not settings.gitlab_group or not settings.gitlab_token_secret_name:
            raise GitProviderError(
                "the gitlab provider needs the stack parameters GitLabGroup and GitLabTokenSecretName"
            )
        return GitLabProvider(
            group=settings.gitlab_group,
            token=secrets_manager_token(
                clients("secretsmanager"), settings.gitlab_token_secret_name, "GitLab"
            ),
            url=settings.gitlab_url,
            api_url=settings.gitlab_api_url,
            oidc_provider_arn=settings.gitlab_oidc_provider_arn,
            oidc_audience=settings.gitlab_oidc_audience,
        )

    # The product's providers, and any the process running the function added by name (the local
    # cloud adds `local`); an added one never replaces the product's.
    providers: dict[GitProviderName, Callable[[], GitProvider]] = {
        **added_git_providers(),
        GitProviderName.CODECOMMIT: lambda: CodeCommitProvider(clients("codecommit")),
        GitProviderName.GITHUB: github,
        GitProviderName.GITLAB: gitlab,
    }
    builds = None
    if settings.ci_build_project_arn and settings.ci_build_trigger_role_arn:
        builds = EventBridgeCiBuildTriggers(
            clients("events"),
            build_project_arn=settings.ci_build_project_arn,
            trigger_role_arn=settings.ci_build_trigger_role_arn,
            stack_name=settings.stack_name,
            account_id=settings.ci_build_project_arn.split(":")[4],
        )
    return ProjectLifecycle(
        settings=settings,
        git_providers=providers,
        model_groups=ModelRegistryAdapter(clients("sagemaker")),
        projects=ProjectStore(clients("dynamodb"), settings.config_table_name),
        seed_code=lambda: load_seed_code(Path(settings.seed_code_dir)),
        ci_access=CiAccess(
            environment=CiEnvironment(
                region=settings.region,
                sagemaker_pipeline_role_arn=settings.sagemaker_pipeline_role_arn,
                artifact_bucket=settings.ci_artifact_bucket,
                event_bus=settings.event_bus_name,
                config_table=settings.config_table_name,
            ),
            roles=IamCiRoles(
                clients("iam"),
                path=settings.ci_role_path,
                policy_arn=settings.ci_role_policy_arn,
                stack_name=settings.stack_name,
            ),
            builds=builds,
        ),
        batch_schedules=SchedulerBatchSchedules(
            clients("scheduler"), group_name=settings.batch_schedule_group_name
        )
        if settings.batch_schedule_group_name
        else None,
    )


handler = CustomResourceFunction(
    component="project-lifecycle",
    settings_model=ProjectLifecycleSettings,
    build_service=build,
    on_create=ProjectLifecycle.create,
    on_update=ProjectLifecycle.update,
    on_delete=ProjectLifecycle.delete,
)
