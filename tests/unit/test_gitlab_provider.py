"""The gitlab provider against a small loopback server that answers like GitLab's REST API v4 (the
calls it makes: groups, projects, branches, commits with actions, project CI/CD variables); the
project lifecycle through the local cloud with it: tests/e2e/test_ci_access_gitlab.py."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from mlops_core.adapters.git_providers import GitLabProvider
from mlops_core.contract.project_record import RepositoryRetention
from mlops_core.projects.ports import GitProviderError

from tests.unit.test_git_providers import SEED, TAGS, FakeRestServer

TOKEN = "glpat-local"
OIDC_PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/gitlab.com"
GROUPS = {"acme": 7, "acme/ml": 8}
NOT_FOUND = {"message": "404 Not Found"}


class FakeGitLab:
    """The GitLab REST API v4 calls the provider makes, kept in memory. Shapes and answers follow
    GitLab's API documentation ("Projects API", "Branches API", "Commits API", "Project-level CI/CD
    variables API"); a project's id in a path is its number or its URL-encoded full path."""

    def __init__(self) -> None:
        self.projects: dict[str, dict[str, Any]] = {}  # by full path
        self.commits: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    def handle(self, method: str, raw_path: str, body: Any, token: str) -> tuple[int, Any]:
        self.calls.append(f"{method} {raw_path}")
        if token != f"Bearer {TOKEN}":
            return 401, {"message": "401 Unauthorized"}
        if not raw_path.startswith("/api/v4/"):
            return 404, NOT_FOUND
        parts = [unquote(part) for part in raw_path.removeprefix("/api/v4/").split("/")]
        if parts[0] == "groups" and len(parts) == 2 and method == "GET":
            group = GROUPS.get(parts[1])
            return (200, {"id": group, "full_path": parts[1]}) if group else (404, NOT_FOUND)
        if parts == ["projects"] and method == "POST":
            return self._create_project(body)
        if parts[0] != "projects" or len(parts) < 2:
            return 404, NOT_FOUND
        project = self._project(parts[1])
        if project is None:
            return 404, {"message": "404 Project Not Found"}
        rest = parts[2:]
        if not rest:
            if method == "GET":
                return 200, self._public(project)
            if method == "PUT":
                if "default_branch" in body and body["default_branch"] not in project["branches"]:
                    return 400, {"message": {"default_branch": ["is invalid"]}}
                project.update(body)
                return 200, self._public(project)
            if method == "DELETE":
                del self.projects[project["path_with_namespace"]]
                return 202, {"message": "202 Accepted"}
        if rest == ["archive"] and method == "POST":
            project["archived"] = True
            return 201, self._public(project)
        if rest[:2] == ["repository", "branches"]:
            return self._branches(project, method, rest[2:], body)
        if rest == ["repository", "commits"] and method == "POST":
            return self._commit(project, body)
        if rest[:1] == ["variables"]:
            return self._variables(project["variables"], method, rest[1:], body)
        return 404, {"message": f"no route {method} {raw_path}"}

    def _project(self, id_or_path: str) -> dict[str, Any] | None:
        if id_or_path.isdigit():
            return next((p for p in self.projects.values() if p["id"] == int(id_or_path)), None)
        return self.projects.get(id_or_path)

    def _create_project(self, body: dict[str, Any]) -> tuple[int, Any]:
        namespace = next((path for path, id_ in GROUPS.items() if id_ == body.get("namespace_id")), None)
        if namespace is None:
            return 404, {"message": "404 Namespace Not Found"}
        full_path = f"{namespace}/{body['path']}"
        if full_path in self.projects:
            return 400, {"message": {"path": ["has already been taken"]}}
        self.projects[full_path] = {
            "id": 1000 + len(self.projects),
            "name": body["name"],
            "path": body["path"],
            "path_with_namespace": full_path,
            "description": body.get("description"),
            "visibility": body.get("visibility", "private"),
            "topics": list(body.get("topics") or []),
            "default_branch": None,  # an empty repository has none
            "archived": False,
            "http_url_to_repo": f"https://gitlab.example/{full_path}.git",
            "branches": {},
            "variables": {},
        }
        return 201, self._public(self.projects[full_path])

    def _branches(self, project: dict[str, Any], method: str, rest: list[str], body: Any) -> tuple[int, Any]:
        branches = project["branches"]
        if len(rest) == 1 and method == "GET":
            sha = branches.get(rest[0])
            if sha is None:
                return 404, {"message": "404 Branch Not Found"}
            return 200, {"name": rest[0], "commit": {"id": sha}}
        if not rest and method == "POST":
            if body["branch"] in branches:
                return 400, {"message": "Branch already exists"}
            sha = branches.get(body["ref"], body["ref"] if body["ref"] in self.commits else None)
            if sha is None:
                return 400, {"message": "Invalid reference name"}
            branches[body["branch"]] = sha
            return 201, {"name": body["branch"], "commit": {"id": sha}}
        return 404, NOT_FOUND

    def _commit(self, project: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
        """One commit of create actions; a new branch needs start_branch unless the repository is empty."""
        branches = project["branches"]
        parent = branches.get(body["branch"]) or branches.get(body.get("start_branch", ""))
        if body["branch"] not in branches and "start_branch" not in body and branches:
            return 400, {"message": "You can only create or edit files when you are on a branch"}
        files = dict(self.commits[parent]["files"]) if parent else {}
        for action in body["actions"]:
            if action["action"] != "create" or action["file_path"] in files:
                return 400, {"message": f"A file with this name already exists: {action['file_path']}"}
            content = action["content"].encode()
            if action.get("encoding") == "base64":
                content = base64.b64decode(content)
            files[action["file_path"]] = (content, bool(action.get("execute_filemode")))
        commit = {"files": files, "parent": parent, "message": body["commit_message"]}
        sha = hashlib.sha1(repr(commit).encode()).hexdigest()
        self.commits[sha] = commit
        branches[body["branch"]] = sha
        return 201, {"id": sha, "short_id": sha[:8], "title": body["commit_message"]}

    @staticmethod
    def _variables(variables: dict[str, Any], method: str, rest: list[str], body: Any) -> tuple[int, Any]:
        """Keys are letters, digits and _ (at most 255); POST of an existing key answers 400."""
        if not rest and method == "POST":
            key = body["key"]
            if not re.fullmatch(r"[A-Za-z0-9_]{1,255}", key):
                return 400, {"message": {"key": ["can contain only letters, digits and '_'."]}}
            if key in variables:
                return 400, {"message": {"key": [f"({key}) has already been taken"]}}
            variables[key] = {
                "variable_type": "env_var",
                "key": key,
                "value": str(body["value"]),
                "protected": bool(body.get("protected", False)),
                "masked": bool(body.get("masked", False)),
                "environment_scope": "*",
            }
            return 201, variables[key]
        if len(rest) == 1:
            variable = variables.get(rest[0])
            if variable is None:
                return 404, {"message": "404 Variable Not Found"}
            if method == "GET":
                return 200, variable
            if method == "PUT":
                variable.update({key: body[key] for key in ("value", "protected", "masked") if key in body})
                return 200, variable
            if method == "DELETE":
                del variables[rest[0]]
                return 204, None
        return 404, NOT_FOUND

    @staticmethod
    def _public(project: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in project.items() if key not in ("branches", "variables")}

    def files_on(self, path: str, branch: str) -> dict[str, tuple[bytes, bool]]:
        return dict(self.commits[self.projects[path]["branches"][branch]]["files"])

    def values(self, path: str) -> dict[str, str]:
        return {key: variable["value"] for key, variable in self.projects[path]["variables"].items()}


class FakeGitLabServer(FakeRestServer):
    """Serves a FakeGitLab's REST API on a loopback port (``{base_url}/api/v4``)."""

    THREAD_NAME = "fake-gitlab"


@pytest.fixture
def server() -> Iterator[FakeGitLabServer]:
    with FakeGitLabServer(FakeGitLab()) as running:
        yield running


@pytest.fixture
def gitlab(server: FakeGitLabServer) -> tuple[FakeGitLab, GitLabProvider]:
    provider = GitLabProvider(
        group="acme/ml",
        token=lambda: TOKEN,
        api_url=f"{server.base_url}/api/v4",
        oidc_provider_arn=OIDC_PROVIDER_ARN,
    )
    return server.fake, provider


def test_gitlab_project_gets_the_seed_on_prod_and_dev_once(gitlab):
    fake, provider = gitlab
    first = provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    calls_after_create = len(fake.calls)
    second = provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)

    assert (first.created, second.created) == (True, False)
    assert first.url == "https://gitlab.example/acme/ml/churn.git"
    project = fake.projects["acme/ml/churn"]
    assert project["visibility"] == "private"
    assert project["topics"] == ["mlops-project-churn"]
    assert project["default_branch"] == "prod"
    assert fake.files_on("acme/ml/churn", "prod") == {
        file.path: (file.content, file.executable) for file in SEED
    }
    assert project["branches"]["dev"] == project["branches"]["prod"]
    assert "GET /api/v4/projects/acme%2Fml%2Fchurn" in fake.calls  # the full path, URL-encoded
    assert [call for call in fake.calls[calls_after_create:] if not call.startswith("GET")] == []


def test_gitlab_refuses_a_project_without_the_projects_topic(gitlab):
    fake, provider = gitlab
    provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    calls = len(fake.calls)
    with pytest.raises(GitProviderError, match=r"acme/ml/churn exists but is not project fraud's .*-fraud"):
        provider.ensure_repository(
            "churn", description="d", files=SEED, tags={**TAGS, "mlops:project": "fraud"}
        )
    assert fake.calls[calls:] == ["GET /api/v4/projects/acme%2Fml%2Fchurn"]  # refused before any change


def test_gitlab_errors_say_what_to_fix(server):
    api_url = f"{server.base_url}/api/v4"
    wrong = GitLabProvider(group="acme/ml", token=lambda: "wrong", api_url=api_url)
    with pytest.raises(
        GitProviderError, match=r"GitLab GET /projects/acme%2Fml%2Fchurn answered 401.*api scope"
    ):
        wrong.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    missing_group = GitLabProvider(group="nobody", token=lambda: TOKEN, api_url=api_url)
    with pytest.raises(GitProviderError, match=r"GitLab GET /groups/nobody answered 404"):
        missing_group.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    unreachable = GitLabProvider(group="acme", token=lambda: TOKEN, url="https://127.0.0.1:9")
    with pytest.raises(GitProviderError, match=r"GitLab GET /projects/acme%2Fchurn unreachable"):
        unreachable.ensure_repository("churn", description="d", files=SEED, tags=TAGS)


def test_gitlab_archive_and_delete(gitlab):
    fake, provider = gitlab
    provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    assert provider.retire_repository("churn", RepositoryRetention.RETAIN) == "retained"
    assert provider.retire_repository("churn", RepositoryRetention.ARCHIVE) == "archived"
    assert fake.projects["acme/ml/churn"]["archived"] is True
    assert provider.retire_repository("churn", RepositoryRetention.DELETE) == "deleted"
    assert fake.projects == {}
    assert provider.retire_repository("churn", RepositoryRetention.DELETE) == "absent"
    assert provider.retire_repository("churn", RepositoryRetention.ARCHIVE) == "absent"


def test_gitlab_ci_trust_names_the_project_path_and_its_branches():
    provider = GitLabProvider(group="acme/ml", token=lambda: TOKEN, oidc_provider_arn=OIDC_PROVIDER_ARN)
    trust = provider.ci_trust("churn")
    assert trust.provider_arn == OIDC_PROVIDER_ARN
    assert trust.issuer == "gitlab.com"
    assert trust.audience == "sts.amazonaws.com"
    assert trust.subjects == (
        "project_path:acme/ml/churn:ref_type:branch:ref:feature-*",
        "project_path:acme/ml/churn:ref_type:branch:ref:dev",
        "project_path:acme/ml/churn:ref_type:branch:ref:prod",
    )
    own = GitLabProvider(
        group="ml",
        token=lambda: TOKEN,
        url="https://gitlab.example.com/",
        oidc_provider_arn=OIDC_PROVIDER_ARN,
        oidc_audience="https://gitlab.example.com",
    ).ci_trust("churn")
    assert (own.issuer, own.audience) == ("gitlab.example.com", "https://gitlab.example.com")
    without = GitLabProvider(group="acme", token=lambda: TOKEN)
    with pytest.raises(GitProviderError, match="needs GitLab's OIDC provider ARN"):
        without.ci_trust("churn")


def test_gitlab_ci_variables_are_created_updated_only_when_changed_and_removed(gitlab):
    fake, provider = gitlab
    provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    provider.set_ci_variables("churn", {"MLOPS_PROJECT": "churn", "AWS_REGION": "eu-west-1"})
    calls = len(fake.calls)
    provider.set_ci_variables("churn", {"MLOPS_PROJECT": "churn", "AWS_REGION": "eu-central-1"})

    assert fake.values("acme/ml/churn") == {"MLOPS_PROJECT": "churn", "AWS_REGION": "eu-central-1"}
    # unprotected: feature-* branches are not protected, and their pipelines need the variables
    assert {v["protected"] for v in fake.projects["acme/ml/churn"]["variables"].values()} == {False}
    assert [call for call in fake.calls[calls:] if not call.startswith("GET")] == [
        "PUT /api/v4/projects/acme%2Fml%2Fchurn/variables/AWS_REGION"
    ]
    provider.set_ci_variables("churn", {"MLOPS_PROJECT": "churn"})
    fake.projects["acme/ml/churn"]["variables"]["OTHER"] = {"key": "OTHER", "value": "kept"}  # the team's
    assert provider.remove_ci_variables("churn", ["MLOPS_PROJECT", "AWS_REGION", "GONE"]) == (
        "MLOPS_PROJECT",
        "AWS_REGION",
    )
    assert fake.values("acme/ml/churn") == {"OTHER": "kept"}
    assert fake.projects["acme/ml/churn"]["branches"]["prod"]  # the code stays
    provider.retire_repository("churn", RepositoryRetention.DELETE)
    assert provider.remove_ci_variables("churn", ["MLOPS_PROJECT"]) == ()  # the project is gone
