"""CodeCommit's gaps in moto, filled:

- tags (the artifact copier finds a repository's project by them): CreateRepository keeps its `tags`;
  ListTagsForResource and TagResource work (missing in moto);
- branches and commits (the project lifecycle seeds a repository with them; a push is a commit):
  CreateCommit, GetCommit, CreateBranch, GetBranch and UpdateDefaultBranch (missing in moto), with the
  errors the API reference names for what the control plane can get wrong;
- a branch created or moved emits `CodeCommit Repository State Change` (`referenceCreated`,
  `referenceUpdated`) on the default bus, as CodeCommit does for every change of a reference (CodeCommit
  User Guide, "CodeCommit Repository State Change" events); the local cloud routes it like any event.
  `callerUserArn` is left out (who called is not known here).
"""

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from moto.codecommit.exceptions import RepositoryDoesNotExistException
from moto.codecommit.responses import CodeCommitResponse
from moto.core.exceptions import JsonRESTError

from mlops_local import aws_events


class _CodeCommitError(JsonRESTError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


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


# ------------------------------------------------------------------------------- branches and commits


def _git(repository: Any) -> dict[str, Any]:
    """The repository's branches (name → commit id), commits (id → commit) and default branch."""
    state: dict[str, Any] = repository.__dict__.setdefault(
        "git", {"branches": {}, "commits": {}, "default_branch": None}
    )
    return state


def _named_repository(response: CodeCommitResponse) -> Any:
    name = response._get_param("repositoryName")
    repository = response.codecommit_backend.repositories.get(name)
    if repository is None:
        raise RepositoryDoesNotExistException(name)
    return repository


def _move_branch(response: CodeCommitResponse, repository: Any, branch: str, commit: str) -> None:
    git = _git(repository)
    old = git["branches"].get(branch)
    git["branches"][branch] = commit
    if git["default_branch"] is None:
        git["default_branch"] = branch  # the first branch of a repository is its default
    metadata = repository.repository_metadata
    detail: dict[str, Any] = {
        "event": "referenceCreated" if old is None else "referenceUpdated",
        "repositoryName": metadata["repositoryName"],
        "repositoryId": metadata["repositoryId"],
        "referenceType": "branch",
        "referenceName": branch,
        "referenceFullName": f"refs/heads/{branch}",
        "commitId": commit,
    }
    if old is not None:
        detail["oldCommitId"] = old
    aws_events.emit(
        aws_events.envelope(
            source="aws.codecommit",
            detail_type="CodeCommit Repository State Change",
            detail=detail,
            account=response.current_account,
            region=response.region,
            resources=[metadata["Arn"]],
        )
    )


def _create_commit_response(response: CodeCommitResponse) -> str:
    """CreateCommit (API reference): ``parentCommitId`` "is required if this is not the initial commit";
    a parent that is not the branch's tip is ParentCommitIdOutdatedException. The commit's files are
    its parent's with ``putFiles`` written over them."""
    repository = _named_repository(response)
    git = _git(repository)
    branch = response._get_param("branchName")
    parent = response._get_param("parentCommitId")
    tip = git["branches"].get(branch)
    if git["branches"] and tip is None:
        raise _CodeCommitError("BranchDoesNotExistException", f"Branch {branch} does not exist.")
    if tip is not None and not parent:
        raise _CodeCommitError(
            "ParentCommitIdRequiredException", "A parent commit ID is required for a non-initial commit."
        )
    if tip is not None and parent != tip:
        raise _CodeCommitError(
            "ParentCommitIdOutdatedException",
            f"The parent commit ID {parent} is not the tip of branch {branch} ({tip}).",
        )
    files = dict(git["commits"][tip]["files"]) if tip is not None else {}
    for put in response._get_param("putFiles") or []:
        files[put["filePath"]] = put.get("fileContent", "")
    message = response._get_param("commitMessage") or ""
    digest = hashlib.sha1(  # a commit id, as git names commits
        json.dumps([tip, message, sorted(files.items()), len(git["commits"])]).encode()
    ).hexdigest()
    git["commits"][digest] = {
        "commitId": digest,
        "parents": [tip] if tip else [],
        "message": message,
        "author": {
            "name": response._get_param("authorName") or "",
            "email": response._get_param("email") or "",
        },
        "files": files,
    }
    _move_branch(response, repository, branch, digest)
    return json.dumps({"commitId": digest, "treeId": digest[::-1], "filesAdded": [], "filesUpdated": []})


def _get_commit_response(response: CodeCommitResponse) -> str:
    repository = _named_repository(response)
    commit_id = response._get_param("commitId")
    commit = _git(repository)["commits"].get(commit_id)
    if commit is None:
        raise _CodeCommitError("CommitIdDoesNotExistException", f"Commit {commit_id} does not exist.")
    shown = {key: commit[key] for key in ("commitId", "parents", "message", "author")}
    return json.dumps({"commit": shown})


def _create_branch_response(response: CodeCommitResponse) -> str:
    repository = _named_repository(response)
    git = _git(repository)
    branch, commit = response._get_param("branchName"), response._get_param("commitId")
    if branch in git["branches"]:
        raise _CodeCommitError("BranchNameExistsException", f"Branch {branch} already exists.")
    if commit not in git["commits"]:
        raise _CodeCommitError("CommitDoesNotExistException", f"Commit {commit} does not exist.")
    _move_branch(response, repository, branch, commit)
    return "{}"


def _get_branch_response(response: CodeCommitResponse) -> str:
    repository = _named_repository(response)
    branch = response._get_param("branchName")
    commit = _git(repository)["branches"].get(branch)
    if commit is None:
        raise _CodeCommitError("BranchDoesNotExistException", f"Branch {branch} does not exist.")
    return json.dumps({"branch": {"branchName": branch, "commitId": commit}})


def _update_default_branch_response(response: CodeCommitResponse) -> str:
    repository = _named_repository(response)
    git = _git(repository)
    branch = response._get_param("defaultBranchName")
    if branch not in git["branches"]:
        raise _CodeCommitError("BranchDoesNotExistException", f"Branch {branch} does not exist.")
    git["default_branch"] = branch
    return "{}"


def _showing_default_branch(get: Callable[[CodeCommitResponse], str]) -> Callable[[CodeCommitResponse], str]:
    @functools.wraps(get)
    def get_repository(response: CodeCommitResponse) -> str:
        answer = json.loads(get(response))
        repository = response.codecommit_backend.repositories[response._get_param("repositoryName")]
        default = _git(repository)["default_branch"]
        if default is not None:
            answer["repositoryMetadata"]["defaultBranch"] = default
        return json.dumps(answer)

    return get_repository


def patch() -> None:
    CodeCommitResponse.create_commit = _create_commit_response  # type: ignore[attr-defined]
    CodeCommitResponse.get_commit = _get_commit_response  # type: ignore[attr-defined]
    CodeCommitResponse.create_branch = _create_branch_response  # type: ignore[attr-defined]
    CodeCommitResponse.get_branch = _get_branch_response  # type: ignore[attr-defined]
    CodeCommitResponse.update_default_branch = _update_default_branch_response  # type: ignore[attr-defined]
    CodeCommitResponse.get_repository = _showing_default_branch(  # type: ignore[method-assign,assignment]
        CodeCommitResponse.get_repository
    )
    CodeCommitResponse.create_repository = _keeping_repository_tags(  # type: ignore[method-assign,assignment]
        CodeCommitResponse.create_repository
    )
    CodeCommitResponse.list_tags_for_resource = _list_repository_tags_response  # type: ignore[attr-defined]
    CodeCommitResponse.tag_resource = _tag_repository_response  # type: ignore[attr-defined]
