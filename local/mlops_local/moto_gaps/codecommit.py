"""CodeCommit's gaps in moto, filled (the artifact copier finds a repository's project by its tags):
CreateRepository keeps its `tags`; ListTagsForResource and TagResource work (missing in moto).
"""

import functools
import json
from collections.abc import Callable
from typing import Any

from moto.codecommit.exceptions import RepositoryDoesNotExistException
from moto.codecommit.responses import CodeCommitResponse


def _repository(response: CodeCommitResponse, arn: str) -> Any:
    name = arn.rsplit(":", 1)[-1]
    repository = response.codecommit_backend.repositories.get(name)
    if repository is None:
        raise RepositoryDoesNotExistException(name)
    return repository


def _keeping_repository_tags(
    create: Callable[[CodeCommitResponse], str],
) -> Callable[[CodeCommitResponse], str]:
    @functools.wraps(create)
    def create_repository(response: CodeCommitResponse) -> str:
        result = create(response)
        repository = response.codecommit_backend.repositories[response._get_param("repositoryName")]
        repository.tags = dict(response._get_param("tags") or {})  # type: ignore[attr-defined]
        return result

    return create_repository


def _list_repository_tags_response(response: CodeCommitResponse) -> str:
    repository = _repository(response, response._get_param("resourceArn"))
    return json.dumps({"tags": getattr(repository, "tags", {})})


def _tag_repository_response(response: CodeCommitResponse) -> str:
    repository = _repository(response, response._get_param("resourceArn"))
    repository.tags = {**getattr(repository, "tags", {}), **(response._get_param("tags") or {})}
    return "{}"


def patch() -> None:
    CodeCommitResponse.create_repository = _keeping_repository_tags(  # type: ignore[method-assign,assignment]
        CodeCommitResponse.create_repository
    )
    CodeCommitResponse.list_tags_for_resource = _list_repository_tags_response  # type: ignore[attr-defined]
    CodeCommitResponse.tag_resource = _tag_repository_response  # type: ignore[attr-defined]
