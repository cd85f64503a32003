"""What a project's CI puts on the application bus (source ``mlops.ci``): ``Git Branch Updated``, the
merge the artifact copier promotes on, for repositories that emit no AWS event (GitHub, GitLab).
"""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
from typing import Any, ClassVar

from pydantic import Field

from mlops_core.contract.events.base import DomainEvent


class GitBranchUpdated(DomainEvent):
    """A branch of a GitHub or GitLab repository moved. The seed code's CI puts it on the
    application bus (``source`` ``mlops.ci``) because those providers emit no AWS event; CodeCommit
    repositories need no CI step (``CodeCommit Repository State Change`` says the same)."""

    DETAIL_TYPE: ClassVar[str] = "Git Branch Updated"
    COMPONENT: ClassVar[str] = "ci"
    # Bounded, so that no event CI can send makes the copier's own event outgrow PutEvents' 256 KB
    # (a repository URL: GitLab's paths go up to 255 characters per level; a commit: SHA-1 or SHA-256 hex).
    repository: str = Field(
        min_length=1, max_length=1024, description="repository name or URL, e.g. `acme/churn-model`"
    )
    branch: str = Field(min_length=1, max_length=255)
    commit_id: str = Field(min_length=1, max_length=64, description="the branch's new head")
    merged_commit_id: str | None = Field(
        default=None,
        max_length=64,
        description="the head of the branch merged in (the `dev` commit), when known",
    )
    project: str | None = Field(default=None, max_length=64, description="the project, when CI knows it")
    provider: str | None = Field(default=None, max_length=32, description="`github` or `gitlab`")

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "repository": "acme/churn-model",
        "branch": "prod",
        "commit_id": "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
        "merged_commit_id": "5a2a5b1c8e6f3d1f0a7b4c9d2e8f1a3b5c7d9e0f",
        "project": "churn",
        "provider": "github",
    }
