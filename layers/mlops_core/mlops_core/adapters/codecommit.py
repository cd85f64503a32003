"""A CodeCommit repository's tags (the artifact copier's
:class:`~mlops_core.promotion.ports.RepositoryTagsPort`): the project lifecycle tags each repository it
creates with its project."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_core.adapters import aws_errors
from mlops_core.observability import logger


class CodeCommitRepositoryTags:
    def __init__(self, client: Any) -> None:
        self._client = client

    def tags(self, repository_arn: str) -> Mapping[str, str] | None:
        """The tags, or None when they cannot be read (then the repository is treated as no project's)."""
        try:
            return dict(self._client.list_tags_for_resource(resourceArn=repository_arn).get("tags") or {})
        except aws_errors.SERVICE_ERRORS as error:
            logger.warning(
                f"could not read the tags of {repository_arn}: {aws_errors.describe(error)}; "
                "treated as no project's"
            )
            return None
