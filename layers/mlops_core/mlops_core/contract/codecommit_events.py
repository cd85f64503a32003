"""CodeCommit's event the artifact copier consumes: a branch of a repository changed."""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
from typing import Literal

from pydantic import Field

from mlops_core.contract.aws_events import AwsModel, EventBridgeEvent


class CodeCommitReferenceDetail(AwsModel):
    event: str
    repositoryName: str
    repositoryId: str | None = None
    referenceType: str
    referenceName: str
    referenceFullName: str | None = None
    commitId: str | None = None
    oldCommitId: str | None = None
    callerUserArn: str | None = None


class CodeCommitRepositoryStateChange(EventBridgeEvent):
    source: Literal["aws.codecommit"]
    detail_type: Literal["CodeCommit Repository State Change"] = Field(alias="detail-type")
    detail: CodeCommitReferenceDetail
