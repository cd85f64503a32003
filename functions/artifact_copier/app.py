"""ArtifactCopierFunction: a merge into `prod` copies the tested dev version into the production group(s)."""

from mlops_core.artifact_copier import ArtifactCopier, GitBranchUpdatedEvent
from mlops_core.aws_events import CodeCommitRepositoryStateChange
from mlops_core.event_function import EventFunction, Route
from mlops_core.settings import ArtifactCopierSettings

handler = EventFunction(
    component="artifact-copier",
    settings_model=ArtifactCopierSettings,
    build_service=ArtifactCopier.build,
    routes=[
        Route(CodeCommitRepositoryStateChange, ArtifactCopier.on_codecommit_change),
        Route(GitBranchUpdatedEvent, ArtifactCopier.on_git_branch_updated),
    ],
)
