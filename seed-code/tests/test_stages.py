"""The branching model: which branch trains into which model group, and which never trains."""

import pytest
from pipelines.stages import BranchAction, BranchError, Stage, Target, action_for, stage_for


@pytest.mark.parametrize(
    ("ref", "stage"),
    [
        ("feature-churn-v2", Stage.FEATURE),
        ("refs/heads/feature-x", Stage.FEATURE),
        ("dev", Stage.DEV),
        ("refs/heads/dev", Stage.DEV),
    ],
)
def test_feature_and_dev_branches_train_into_their_stage(ref: str, stage: Stage) -> None:
    assert stage_for(ref) is stage
    assert action_for(ref) is BranchAction.TRAIN


def test_prod_never_trains_it_promotes() -> None:
    assert action_for("refs/heads/prod") is BranchAction.PROMOTE
    with pytest.raises(BranchError, match="prod does not train"):
        stage_for("prod")


@pytest.mark.parametrize("ref", ["main", "feature-", "features-x", "hotfix-1", "devel"])
def test_other_branches_train_nothing(ref: str) -> None:
    assert action_for(ref) is BranchAction.NONE
    with pytest.raises(BranchError, match="trains nothing"):
        stage_for(ref)


def test_names_derive_from_project_and_stage() -> None:
    target = Target.for_branch("churn", "feature-new-features")
    assert target.model_package_group == "churn-feature"
    assert target.pipeline_name == "churn-feature-build"
    assert Target.for_branch("churn", "dev").model_package_group == "churn-dev"


@pytest.mark.parametrize("project", ["", "-churn", "churn_v2", "x" * 33])
def test_project_names_follow_the_control_planes_rule(project: str) -> None:
    with pytest.raises(ValueError, match="project name"):
        Target.for_branch(project, "dev")
