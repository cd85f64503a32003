"""ArtifactCopierFunction: a merge into `prod` copies the tested dev version into the production group(s)."""

from mlops_core.adapters import aws_errors
from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.adapters.codecommit import CodeCommitRepositoryTags
from mlops_core.adapters.promotion_records import ProjectDirectory, PromotionLedger
from mlops_core.adapters.s3 import S3ArtifactStore
from mlops_core.adapters.sagemaker import ModelRegistryAdapter
from mlops_core.contract.codecommit_events import CodeCommitRepositoryStateChange
from mlops_core.handlers.event_function import EventFunction, Route
from mlops_core.promotion.artifact_copier import ArtifactCopier, GitBranchUpdatedEvent, TargetAccount
from mlops_core.promotion.ports import PromotionServiceError
from mlops_core.promotion.settings import ArtifactCopierSettings


def build(settings: ArtifactCopierSettings, clients: ClientFactory) -> ArtifactCopier:
    local = TargetAccount(ModelRegistryAdapter(clients("sagemaker")), S3ArtifactStore(clients("s3")))

    def target_accounts(role_arn: str | None) -> TargetAccount:
        if not role_arn:
            return local
        with aws_errors.reraised_with_retryable(PromotionServiceError):  # AssumeRole refused, ...
            remote = clients.assuming(role_arn, f"{settings.stack_name}-promotion")
        account = role_arn.split(":")[4]
        return TargetAccount(
            ModelRegistryAdapter(remote("sagemaker")), S3ArtifactStore(remote("s3")), account
        )

    return ArtifactCopier(
        settings,
        projects=ProjectDirectory(clients("dynamodb"), settings.config_table_name),
        source_registry=local.registry,
        target_accounts=target_accounts,
        ledger=PromotionLedger(clients("dynamodb"), settings.config_table_name),
        repository_tags=CodeCommitRepositoryTags(clients("codecommit")),
    )


handler = EventFunction(
    component="artifact-copier",
    settings_model=ArtifactCopierSettings,
    build_service=build,
    routes=[
        Route(CodeCommitRepositoryStateChange, ArtifactCopier.on_codecommit_change),
        Route(GitBranchUpdatedEvent, ArtifactCopier.on_git_branch_updated),
    ],
)
