"""Git providers behind one small interface: a project's repository, with the seed code on ``prod``
and ``dev`` branched from it.

Every provider's :meth:`GitProvider.ensure_repository` is idempotent: it creates what is missing
and leaves what exists alone, so a retried or repeated Create neither fails nor adds commits.
Errors are :class:`GitProviderError` with a message a person can act on (it becomes the reason
CloudFormation shows).

A repository name is free-form, so a provider adopts an existing repository only when it is this
project's: it carries the project's mark (CodeCommit: the ``mlops:project`` and ``mlops:managed-by``
tags, set when it is created; GitHub and GitLab: the topic ``mlops-project-{project}``, set when it
is created). Anything else is refused, so a project can never take over, commit to, or later delete
someone else's repository.

- :class:`CodeCommitProvider`: ``CreateRepository``, ``CreateCommit`` in batches within the API's
  limits, ``CreateBranch``;
- :class:`GitHubProvider`: a repository in an organisation, the tree pushed through the Git data
  API, ``prod`` optionally protected; the token comes from Secrets Manager;
- :class:`GitLabProvider`: a project in a group, the seed committed through the REST API v4; the
  token comes from Secrets Manager.

The product ships these three. A process that runs the functions itself may add a provider by name
(:func:`add_git_provider`): the local cloud adds ``local`` (bare repositories in a directory of its
own, ``mlops_local.local_git``) while it is open, so that its projects get real commits and branches.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_core.adapters import aws_errors
from mlops_core.contract import tags as tag_keys
from mlops_core.contract.project_record import GitProviderName, RepositoryRetention
from mlops_core.projects.ports import (
    BuildSource,
    CiTrust,
    GitProvider,
    GitProviderError,
    Repository,
    SeedFile,
)

PROD_BRANCH = "prod"
DEV_BRANCH = "dev"
SEED_COMMIT_MESSAGE = "Project created from the MLOps seed code"
COMMIT_AUTHOR_NAME = "MLOps control plane"
COMMIT_AUTHOR_EMAIL = "mlops-control-plane@users.noreply.github.com"


PROJECT_TAG = tag_keys.PROJECT
MANAGED_BY_TAG = tag_keys.MANAGED_BY


def project_mark(tags: dict[str, str]) -> dict[str, str | None]:
    """What marks a repository as a project's: its project and managing stack, from its tags."""
    return {PROJECT_TAG: tags.get(PROJECT_TAG), MANAGED_BY_TAG: tags.get(MANAGED_BY_TAG)}


def not_this_projects(what: str, tags: dict[str, str], mark: str) -> GitProviderError:
    return GitProviderError(
        f"{what} exists but is not project {tags.get(PROJECT_TAG)}'s (it lacks {mark}); choose another "
        "RepositoryName, or add that mark if the repository really is this project's"
    )


# Local state that may sit in a developer's seed-code checkout and is never part of a new repository.
_NOT_SEED_DIRECTORIES = {".git", "__pycache__", ".venv", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def load_seed_code(directory: Path) -> tuple[SeedFile, ...]:
    """Every file under ``directory`` (sorted, so the seed commit is the same every time)."""
    if not directory.is_dir():
        raise GitProviderError(f"the seed code directory {directory} does not exist (SEED_CODE_DIR)")
    files = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        if set(relative.split("/")[:-1]) & _NOT_SEED_DIRECTORIES or relative.endswith(".pyc"):
            continue
        files.append(SeedFile(relative, path.read_bytes(), executable=os.access(path, os.X_OK)))
    if not files:
        raise GitProviderError(f"the seed code directory {directory} is empty (SEED_CODE_DIR)")
    return tuple(files)


# ---------------------------------------------------------------------------------- added providers

# Providers the product does not ship, added by name by the process that runs the functions (the
# local cloud adds `local` when it opens); the project lifecycle's wiring takes them with its own.
_added_providers: dict[GitProviderName, Callable[[], GitProvider]] = {}


def add_git_provider(name: GitProviderName, factory: Callable[[], GitProvider]) -> Callable[[], None]:
    """Offer ``name`` to the project lifecycle (functions wired after this call); returns what takes it
    away again."""
    _added_providers[name] = factory

    def remove() -> None:
        if _added_providers.get(name) is factory:
            del _added_providers[name]

    return remove


def added_git_providers() -> dict[GitProviderName, Callable[[], GitProvider]]:
    """The providers added with :func:`add_git_provider` and not taken away, by name."""
    return dict(_added_providers)


# -------------------------------------------------------------------------------------- CodeCommit

# CreateCommit takes at most 100 file changes, and its request is at most 6 MB (the content is sent
# base64-encoded, which adds a third); batches stay under both.
CODECOMMIT_MAX_FILES_PER_COMMIT = 100
CODECOMMIT_MAX_BYTES_PER_COMMIT = 4 * 1024 * 1024
_BATCH_MARKER = re.compile(r"\(seed batch (\d+)/(\d+)\)$")


def codecommit_batches(
    files: Sequence[SeedFile],
    max_files: int = CODECOMMIT_MAX_FILES_PER_COMMIT,
    max_bytes: int = CODECOMMIT_MAX_BYTES_PER_COMMIT,
) -> list[list[SeedFile]]:
    """Split the seed files into commits that respect CreateCommit's limits."""
    batches: list[list[SeedFile]] = []
    current: list[SeedFile] = []
    size = 0
    for file in files:
        if len(file.content) > max_bytes:
            raise GitProviderError(
                f"seed file {file.path} is {len(file.content)} bytes; CodeCommit's CreateCommit "
                f"takes at most {max_bytes} per commit: keep large files out of the seed code"
            )
        if current and (len(current) == max_files or size + len(file.content) > max_bytes):
            batches.append(current)
            current, size = [], 0
        current.append(file)
        size += len(file.content)
    if current:
        batches.append(current)
    return batches


class CodeCommitProvider:
    """CodeCommit: the seed code is committed on ``prod`` in batches; a batch marker in each commit
    message lets an interrupted Create resume where it stopped instead of committing twice."""

    name = GitProviderName.CODECOMMIT

    def __init__(self, client: Any) -> None:
        self._client = client

    def ensure_repository(
        self, name: str, *, description: str, files: Sequence[SeedFile], tags: dict[str, str]
    ) -> Repository:
        with self._explained(name):
            created = False
            try:
                metadata = self._client.get_repository(repositoryName=name)["repositoryMetadata"]
            except self._client.exceptions.RepositoryDoesNotExistException:
                metadata = self._client.create_repository(
                    repositoryName=name, repositoryDescription=description[:1000], tags=tags
                )["repositoryMetadata"]
                created = True
            else:
                self._check_tags(name, str(metadata["Arn"]), tags)
            batches = codecommit_batches(files)
            parent, done = self._seed_progress(name, len(batches))
            for index in range(done, len(batches)):
                request: dict[str, Any] = {
                    "repositoryName": name,
                    "branchName": PROD_BRANCH,
                    "authorName": COMMIT_AUTHOR_NAME,
                    "email": COMMIT_AUTHOR_EMAIL,
                    "commitMessage": f"{SEED_COMMIT_MESSAGE} (seed batch {index + 1}/{len(batches)})",
                    "putFiles": [
                        {
                            "filePath": file.path,
                            "fileContent": file.content,
                            "fileMode": "EXECUTABLE" if file.executable else "NORMAL",
                        }
                        for file in batches[index]
                    ],
                }
                if parent is not None:
                    request["parentCommitId"] = parent
                parent = self._client.create_commit(**request)["commitId"]
            assert parent is not None
            with contextlib.suppress(self._client.exceptions.BranchNameExistsException):
                self._client.create_branch(repositoryName=name, branchName=DEV_BRANCH, commitId=parent)
            self._client.update_default_branch(repositoryName=name, defaultBranchName=PROD_BRANCH)
        return Repository(self.name, name, str(metadata["cloneUrlHttp"]), created)

    def build_source(self, repository: str) -> BuildSource:
        """What the shared CodeBuild project's trigger needs: the ARN its push events name and the
        HTTPS clone URL CodeBuild fetches (:class:`~mlops_core.projects.ports.AwsBuiltProvider`)."""
        with self._explained(repository):
            metadata = self._client.get_repository(repositoryName=repository)["repositoryMetadata"]
        return BuildSource(str(metadata["Arn"]), str(metadata["cloneUrlHttp"]))

    def _check_tags(self, name: str, arn: str, tags: dict[str, str]) -> None:
        """Adopt an existing repository only if it is tagged as this project's, by this stack."""
        found: dict[str, str] = {}
        request: dict[str, Any] = {"resourceArn": arn}
        while True:
            page = self._client.list_tags_for_resource(**request)
            found.update(page.get("tags") or {})
            if not page.get("nextToken"):
                break
            request["nextToken"] = page["nextToken"]
        expected = project_mark(tags)
        if any(found.get(key) != value for key, value in expected.items()):
            marks = ", ".join(f"{key}={value}" for key, value in expected.items())
            raise not_this_projects(f"CodeCommit repository {name}", tags, f"the tags {marks}")

    def _seed_progress(self, name: str, batches: int) -> tuple[str | None, int]:
        """``prod``'s head and how many seed batches it holds (all of them if it is not ours)."""
        try:
            head = self._client.get_branch(repositoryName=name, branchName=PROD_BRANCH)["branch"]["commitId"]
        except self._client.exceptions.BranchDoesNotExistException:
            return None, 0
        message = self._client.get_commit(repositoryName=name, commitId=head)["commit"]["message"].strip()
        marker = _BATCH_MARKER.search(message)
        if marker is None or int(marker[2]) != batches:
            return head, batches
        return head, int(marker[1])

    def retire_repository(self, name: str, retention: RepositoryRetention) -> str:
        if retention is RepositoryRetention.DELETE:
            with self._explained(name):
                self._client.delete_repository(repositoryName=name)
            return "deleted"
        if retention is RepositoryRetention.ARCHIVE:
            # CodeCommit has no archive: the repository is kept and tagged so people can find it.
            with self._explained(name):
                arn = self._client.get_repository(repositoryName=name)["repositoryMetadata"]["Arn"]
                self._client.tag_resource(resourceArn=arn, tags={"mlops:archived": "true"})
            return "archived"
        return "retained"

    @staticmethod
    def _explained(name: str) -> _ClientErrorExplainer:
        return _ClientErrorExplainer(f"CodeCommit repository {name}")


class _ClientErrorExplainer:
    def __init__(self, what: str) -> None:
        self._what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, aws_errors.SERVICE_ERRORS):
            raise GitProviderError(f"{self._what}: {aws_errors.describe_call(exc)}") from exc


# ------------------------------------------------------------------ hosted git (GitHub, GitLab)

# The branches whose workflows may assume the project's CI role (a push to any other branch trains
# nothing: pipelines.run action).
CI_BRANCH_PATTERNS = ("feature-*", DEV_BRANCH, PROD_BRANCH)


def ci_subjects(template: str) -> tuple[str, ...]:
    """The OIDC ``sub`` claims (IAM ``StringLike`` patterns) of CI runs on the branches that may assume
    a project's CI role: ``template`` with ``{branch}`` replaced by each of :data:`CI_BRANCH_PATTERNS`."""
    return tuple(template.format(branch=branch) for branch in CI_BRANCH_PATTERNS)


def project_topic(project: str) -> str:
    """The topic that marks a GitHub repository or GitLab project as a project's (lowercase, at most 50)."""
    return f"mlops-project-{project.lower()}"[:50]


class RestApi:
    """A git host's JSON REST API with a bearer token (GitHub's, GitLab's): errors become
    :class:`GitProviderError` naming the call, and a 404 may mean "missing" (``missing_ok``)."""

    def __init__(
        self,
        host: str,
        api_url: str,
        token: Callable[[], str],
        *,
        headers: Mapping[str, str],
        refused_hint: str,
        timeout_seconds: float,
    ) -> None:
        self._host = host
        self._api_url = api_url.rstrip("/")
        self._token = token
        self._headers = dict(headers)
        self._refused_hint = refused_hint
        self._timeout = timeout_seconds

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, missing_ok: bool = False
    ) -> dict[str, Any] | None:
        request = urllib.request.Request(
            self._api_url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                **self._headers,
                "Authorization": f"Bearer {self._token()}",
                "Content-Type": "application/json",
                "User-Agent": "mlops-control-plane",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                text = response.read()
        except urllib.error.HTTPError as error:
            if error.code == 404 and missing_ok:
                return None
            detail = error.read().decode(errors="replace")[:200]
            hint = f" ({self._refused_hint})" if error.code in (401, 403) else ""
            raise GitProviderError(
                f"{self._host} {method} {path} answered {error.code}: {detail}{hint}"
            ) from None
        except urllib.error.URLError as error:
            raise GitProviderError(f"{self._host} {method} {path} unreachable: {error.reason}") from None
        return json.loads(text) if text else {}


# ------------------------------------------------------------------------------------------ GitHub

GITHUB_API_URL = "https://api.github.com"
# GitHub Actions' OIDC tokens: their issuer (the IAM identity provider's URL without https://) and the
# audience aws-actions/configure-aws-credentials asks for (GitHub's "Configuring OpenID Connect in
# Amazon Web Services").
GITHUB_OIDC_ISSUER = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"


class GitHubProvider:
    """A private repository in an organisation, ``prod`` its default and, optionally, protected branch.

    Its first ``prod`` commit is either the seed tree pushed with the Git data API (blobs, tree,
    commit, refs), or, with ``template_repository`` (``owner/name``), the head of a repository
    generated from that GitHub template repository (the seed code is then the template's).
    """

    name = GitProviderName.GITHUB

    def __init__(
        self,
        *,
        organization: str,
        token: Callable[[], str],
        api_url: str = GITHUB_API_URL,
        protect_prod: bool = True,
        template_repository: str | None = None,
        timeout_seconds: float = 20,
        generation_checks: int = 10,
        wait: Callable[[float], None] = time.sleep,
        oidc_provider_arn: str | None = None,
    ) -> None:
        self._oidc_provider_arn = oidc_provider_arn
        self._organization = organization
        self._template_repository = template_repository
        self._generation_checks = generation_checks
        self._wait = wait
        self._protect_prod = protect_prod
        self._request = RestApi(
            "GitHub",
            api_url,
            token,
            headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
            refused_hint="check the token's scopes: repo, admin:org",
            timeout_seconds=timeout_seconds,
        ).request

    def ensure_repository(
        self, name: str, *, description: str, files: Sequence[SeedFile], tags: dict[str, str]
    ) -> Repository:
        repo_path = f"/repos/{self._organization}/{name}"
        topic = project_topic(tags.get(PROJECT_TAG) or name)
        repository = self._request("GET", repo_path, missing_ok=True)
        created = repository is None
        if repository is None:
            repository = self._create_repository(name, description)
            # The mark that lets a retried Create adopt this repository (and only this one).
            self._request("PUT", f"{repo_path}/topics", {"names": [topic]})
        elif topic not in (repository.get("topics") or ()):
            raise not_this_projects(
                f"GitHub repository {self._organization}/{name}", tags, f"the topic {topic}"
            )
        prod = self._request("GET", f"{repo_path}/git/ref/heads/{PROD_BRANCH}", missing_ok=True)
        if prod is None:
            if self._template_repository:
                commit = self._generated_head(repo_path, str(repository.get("default_branch") or "main"))
            else:
                commit = self._commit_tree(repo_path, files)
            self._create_branch(repo_path, PROD_BRANCH, commit)
            prod_sha = commit
        else:
            prod_sha = prod["object"]["sha"]
        if self._request("GET", f"{repo_path}/git/ref/heads/{DEV_BRANCH}", missing_ok=True) is None:
            self._create_branch(repo_path, DEV_BRANCH, prod_sha)
        if repository.get("default_branch") != PROD_BRANCH:
            self._request("PATCH", repo_path, {"default_branch": PROD_BRANCH})
        if self._protect_prod:
            self._request(
                "PUT",
                f"{repo_path}/branches/{PROD_BRANCH}/protection",
                {
                    "required_status_checks": None,
                    "enforce_admins": False,
                    "required_pull_request_reviews": {"required_approving_review_count": 1},
                    "restrictions": None,
                },
            )
        return Repository(self.name, name, str(repository["clone_url"]), created)

    def retire_repository(self, name: str, retention: RepositoryRetention) -> str:
        repo_path = f"/repos/{self._organization}/{name}"
        if retention is RepositoryRetention.DELETE:
            if self._request("DELETE", repo_path, missing_ok=True) is None:
                return "absent"
            return "deleted"
        if retention is RepositoryRetention.ARCHIVE:
            if self._request("PATCH", repo_path, {"archived": True}, missing_ok=True) is None:
                return "absent"
            return "archived"
        return "retained"

    # ------------------------------------------------------------------------------- CI access

    def ci_trust(self, repository: str) -> CiTrust:
        """Tokens of this repository's workflows on ``feature-*``, ``dev`` and ``prod`` (the ``sub``
        claim GitHub gives a job without an environment: ``repo:OWNER/REPO:ref:refs/heads/BRANCH``)."""
        if not self._oidc_provider_arn:
            raise GitProviderError("the github provider's CI access needs GitHub's OIDC provider ARN")
        return CiTrust(
            provider_arn=self._oidc_provider_arn,
            issuer=GITHUB_OIDC_ISSUER,
            audience=GITHUB_OIDC_AUDIENCE,
            subjects=ci_subjects(f"repo:{self._organization}/{repository}:ref:refs/heads/{{branch}}"),
        )

    def set_ci_variables(self, repository: str, variables: Mapping[str, str]) -> None:
        """Repository variables of GitHub Actions (REST API "Actions variables"): created, or updated
        when their value differs."""
        path = f"/repos/{self._organization}/{repository}/actions/variables"
        for name, value in variables.items():
            current = self._request("GET", f"{path}/{name}", missing_ok=True)
            if current is None:
                self._request("POST", path, {"name": name, "value": value})
            elif current.get("value") != value:
                self._request("PATCH", f"{path}/{name}", {"name": name, "value": value})

    def remove_ci_variables(self, repository: str, names: Sequence[str]) -> tuple[str, ...]:
        """Each variable deleted; one already gone (or the repository with it) answers 404."""
        path = f"/repos/{self._organization}/{repository}/actions/variables"
        return tuple(
            name for name in names if self._request("DELETE", f"{path}/{name}", missing_ok=True) is not None
        )

    def _create_repository(self, name: str, description: str) -> dict[str, Any]:
        request = {"name": name, "description": description[:350], "private": True}
        if self._template_repository:
            created = self._request(
                "POST",
                f"/repos/{self._template_repository}/generate",
                {**request, "owner": self._organization, "include_all_branches": False},
            )
        else:
            # auto_init gives the repository a first commit: the Git data API refuses empty ones.
            created = self._request(
                "POST", f"/orgs/{self._organization}/repos", {**request, "auto_init": True}
            )
        assert created is not None
        return created

    def _generated_head(self, repo_path: str, branch: str) -> str:
        """The head of a repository generated from the template (GitHub generates it asynchronously)."""
        for check in range(self._generation_checks):
            head = self._request("GET", f"{repo_path}/git/ref/heads/{branch}", missing_ok=True)
            if head is not None:
                return str(head["object"]["sha"])
            if check + 1 < self._generation_checks:
                self._wait(1.0)
        raise GitProviderError(
            f"GitHub has not finished generating {repo_path} from template {self._template_repository} "
            f"(no branch {branch} yet); retry, the repository is reused"
        )

    def _create_branch(self, repo_path: str, branch: str, sha: str) -> None:
        self._request("POST", f"{repo_path}/git/refs", {"ref": f"refs/heads/{branch}", "sha": sha})

    def _commit_tree(self, repo_path: str, files: Sequence[SeedFile]) -> str:
        tree = []
        for file in files:
            blob = self._request(
                "POST",
                f"{repo_path}/git/blobs",
                {"content": base64.b64encode(file.content).decode(), "encoding": "base64"},
            )
            assert blob is not None
            mode = "100755" if file.executable else "100644"
            tree.append({"path": file.path, "mode": mode, "type": "blob", "sha": blob["sha"]})
        new_tree = self._request("POST", f"{repo_path}/git/trees", {"tree": tree})
        assert new_tree is not None
        commit = self._request(
            "POST",
            f"{repo_path}/git/commits",
            {
                "message": SEED_COMMIT_MESSAGE,
                "tree": new_tree["sha"],
                "parents": [],
                "author": {"name": COMMIT_AUTHOR_NAME, "email": COMMIT_AUTHOR_EMAIL},
            },
        )
        assert commit is not None
        return str(commit["sha"])


# ------------------------------------------------------------------------------------------ GitLab

GITLAB_URL = "https://gitlab.com"
# The audience GitLab CI's `id_tokens` ask for in the seed code's .gitlab-ci.yml (GitLab lets a job
# name any audience; the IAM identity provider's client ID and the role's trust must match it).
GITLAB_OIDC_AUDIENCE = "sts.amazonaws.com"


class GitLabProvider:
    """A private project in a GitLab group through GitLab's REST API v4, ``prod`` its default branch.

    The seed code is the first commit of the empty project's ``prod`` (one commit with every file,
    "Create a commit with multiple files and actions"), ``dev`` a branch of it. The project's topic
    ``mlops-project-{project}``, set when it is created, marks it as the project's. The CI variables
    are the project's CI/CD variables, unprotected (``feature-*`` branches are not protected) and
    unmasked (none is a secret). The token comes from Secrets Manager.
    """

    name = GitProviderName.GITLAB

    def __init__(
        self,
        *,
        group: str,
        token: Callable[[], str],
        url: str = GITLAB_URL,
        api_url: str | None = None,
        oidc_provider_arn: str | None = None,
        oidc_audience: str = GITLAB_OIDC_AUDIENCE,
        timeout_seconds: float = 20,
    ) -> None:
        self._group = group.strip("/")
        self._url = url.rstrip("/")
        self._oidc_provider_arn = oidc_provider_arn
        self._oidc_audience = oidc_audience
        self._request = RestApi(
            "GitLab",
            api_url or f"{self._url}/api/v4",
            token,
            headers={"Accept": "application/json"},
            refused_hint="the token needs the api scope and the Maintainer role in the group",
            timeout_seconds=timeout_seconds,
        ).request

    def _project_path(self, name: str) -> str:
        """``/projects/:id`` with the URL-encoded full path as its id (GitLab's "Namespaced paths")."""
        return "/projects/" + urllib.parse.quote(f"{self._group}/{name}", safe="")

    def ensure_repository(
        self, name: str, *, description: str, files: Sequence[SeedFile], tags: dict[str, str]
    ) -> Repository:
        path = self._project_path(name)
        topic = project_topic(tags.get(PROJECT_TAG) or name)
        project = self._request("GET", path, missing_ok=True)
        created = project is None
        if project is None:
            group = self._request("GET", "/groups/" + urllib.parse.quote(self._group, safe=""))
            assert group is not None
            project = self._request(
                "POST",
                "/projects",
                {
                    "name": name,
                    "path": name,
                    "namespace_id": group["id"],
                    "description": description[:2000],
                    "visibility": "private",
                    "topics": [topic],  # the mark that lets a retried Create adopt it (and only it)
                },
            )
            assert project is not None
        elif topic not in (project.get("topics") or ()):
            raise not_this_projects(f"GitLab project {self._group}/{name}", tags, f"the topic {topic}")
        branches = f"{path}/repository/branches"
        if self._request("GET", f"{branches}/{PROD_BRANCH}", missing_ok=True) is None:
            self._request(
                "POST",
                f"{path}/repository/commits",
                {
                    "branch": PROD_BRANCH,
                    "commit_message": SEED_COMMIT_MESSAGE,
                    "author_name": COMMIT_AUTHOR_NAME,
                    "author_email": COMMIT_AUTHOR_EMAIL,
                    "actions": [
                        {
                            "action": "create",
                            "file_path": file.path,
                            "content": base64.b64encode(file.content).decode(),
                            "encoding": "base64",
                            "execute_filemode": file.executable,
                        }
                        for file in files
                    ],
                },
            )
        if self._request("GET", f"{branches}/{DEV_BRANCH}", missing_ok=True) is None:
            self._request("POST", branches, {"branch": DEV_BRANCH, "ref": PROD_BRANCH})
        if project.get("default_branch") != PROD_BRANCH:
            self._request("PUT", path, {"default_branch": PROD_BRANCH})
        return Repository(self.name, name, str(project["http_url_to_repo"]), created)

    def retire_repository(self, name: str, retention: RepositoryRetention) -> str:
        path = self._project_path(name)
        if retention is RepositoryRetention.DELETE:
            return "absent" if self._request("DELETE", path, missing_ok=True) is None else "deleted"
        if retention is RepositoryRetention.ARCHIVE:
            archived = self._request("POST", f"{path}/archive", missing_ok=True)
            return "absent" if archived is None else "archived"
        return "retained"

    # ------------------------------------------------------------------------------- CI access

    def ci_trust(self, repository: str) -> CiTrust:
        """Tokens of this project's pipelines on ``feature-*``, ``dev`` and ``prod``: GitLab's ``sub``
        claim is ``project_path:{group}/{project}:ref_type:branch:ref:{branch}`` (GitLab's "OpenID
        Connect (OIDC) authentication using ID tokens"); the condition keys' prefix is the instance's
        host and path (the IAM identity provider's URL without ``https://``)."""
        if not self._oidc_provider_arn:
            raise GitProviderError("the gitlab provider's CI access needs GitLab's OIDC provider ARN")
        return CiTrust(
            provider_arn=self._oidc_provider_arn,
            issuer=self._url.removeprefix("https://"),
            audience=self._oidc_audience,
            subjects=ci_subjects(f"project_path:{self._group}/{repository}:ref_type:branch:ref:{{branch}}"),
        )

    def set_ci_variables(self, repository: str, variables: Mapping[str, str]) -> None:
        """The project's CI/CD variables ("Project-level CI/CD variables API"): created, or updated when
        their value differs."""
        path = f"{self._project_path(repository)}/variables"
        for key, value in variables.items():
            current = self._request("GET", f"{path}/{key}", missing_ok=True)
            if current is None:
                self._request("POST", path, {"key": key, "value": value, "protected": False, "masked": False})
            elif current.get("value") != value:
                self._request("PUT", f"{path}/{key}", {"value": value})

    def remove_ci_variables(self, repository: str, names: Sequence[str]) -> tuple[str, ...]:
        """Each variable deleted; one already gone (or the project with it) answers 404."""
        path = f"{self._project_path(repository)}/variables"
        return tuple(
            name for name in names if self._request("DELETE", f"{path}/{name}", missing_ok=True) is not None
        )


def secrets_manager_token(client: Any, secret_name: str, host: str = "GitHub") -> Callable[[], str]:
    """A token reader for :class:`GitHubProvider` and :class:`GitLabProvider` (``host`` names it in
    messages): the secret is read on first use and cached.

    The secret is the token itself, or JSON with a ``token`` key.
    """
    cache: list[str] = []

    def token() -> str:
        if not cache:
            try:
                secret = client.get_secret_value(SecretId=secret_name)["SecretString"]
            except aws_errors.SERVICE_ERRORS as error:
                raise GitProviderError(
                    f"cannot read the {host} token from secret {secret_name}: {aws_errors.error_code(error)}"
                ) from None
            if secret.lstrip().startswith("{"):
                try:
                    parsed = json.loads(secret)
                except ValueError:
                    raise GitProviderError(
                        f"secret {secret_name} is not valid JSON; store the token itself or "
                        '{"token": "..."}'
                    ) from None
                secret = parsed.get("token") if isinstance(parsed, dict) else None
                if not isinstance(secret, str):
                    secret = ""
            if not secret:
                raise GitProviderError(f"secret {secret_name} holds no {host} token")
            cache.append(secret)
        return cache[0]

    return token
