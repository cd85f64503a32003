"""The project lifecycle's events (source ``mlops.project-lifecycle``): a project created or deleted."""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
from typing import Any, ClassVar

from pydantic import Field

from mlops_core.contract.events.base import DomainEvent


class ProjectCreated(DomainEvent):
    """A SageMaker project got its repository (seed code on `prod`, `dev` from it), groups and record."""

    DETAIL_TYPE: ClassVar[str] = "Project Created"
    COMPONENT: ClassVar[str] = "project-lifecycle"
    project: str
    project_id: str
    scenario: str = Field(description="`baseline` or `advanced`")
    registry_backend: str = Field(description="`sagemaker` or `mlflow`")
    git_provider: str = Field(description="`local`, `codecommit`, `github` or `gitlab`")
    repository_url: str
    model_groups: tuple[str, ...] = Field(description="none with the mlflow backend")

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "project_id": "p-1a2b3c4d5e6f",
        "scenario": "baseline",
        "registry_backend": "sagemaker",
        "git_provider": "codecommit",
        "repository_url": "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/churn",
        "model_groups": ["churn-feature", "churn-dev", "churn-prod"],
    }


class ProjectDeleted(DomainEvent):
    """A SageMaker project was deleted; what happened to its repository and model groups."""

    DETAIL_TYPE: ClassVar[str] = "Project Deleted"
    COMPONENT: ClassVar[str] = "project-lifecycle"
    project: str
    project_id: str
    repository_name: str
    repository: str = Field(description="`retained`, `archived`, `deleted`, `absent`, or `kept (reason)`")
    model_groups_deleted: tuple[str, ...] = ()
    model_groups_kept: dict[str, str] = Field(
        default_factory=dict, description="model group → why it was kept"
    )

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "project_id": "p-1a2b3c4d5e6f",
        "repository_name": "churn",
        "repository": "retained",
        "model_groups_deleted": ["churn-feature"],
        "model_groups_kept": {"churn-dev": "it holds model versions"},
    }
