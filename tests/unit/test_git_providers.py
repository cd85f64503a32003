"""The product's git providers: CodeCommit through botocore's Stubber (moto lacks those APIs), GitHub
against a small loopback server that answers like its REST API (the local cloud's own provider:
tests/local_cloud/test_local_git_provider.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

import boto3
import pytest
from botocore.stub import ANY, Stubber
from mlops_core.adapters.git_providers import (
    CODECOMMIT_MAX_FILES_PER_COMMIT,
    CodeCommitProvider,
    GitHubProvider,
    codecommit_batches,
    load_seed_code,
    secrets_manager_token,
)
from mlops_core.contract.project_record import RepositoryRetention
from mlops_core.projects.ports import GitProviderError, SeedFile
from mlops_local.loopback import LoopbackServer, answer
from moto import mock_aws

SEED = (
    SeedFile("README.md", b"# project\n"),
    SeedFile("pipelines/train.py", b"print('train')\n"),
    SeedFile("scripts/run.sh", b"#!/bin/sh\necho run\n", executable=True),
)
TAGS = {"mlops:project": "churn", "mlops:managed-by": "mlops"}


# ------------------------------------------------------------------------------------- seed code


def test_seed_code_skips_local_state(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("a")
    (tmp_path / "src" / "__pycache__").mkdir()
    (tmp_path / "src" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"x")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").write_text("x")
    assert [file.path for file in load_seed_code(tmp_path)] == ["src/a.py"]
    with pytest.raises(GitProviderError, match="SEED_CODE_DIR"):
        load_seed_code(tmp_path / "missing")


# ------------------------------------------------------------------------------------- CodeCommit


def many_files(count: int) -> tuple[SeedFile, ...]:
    return tuple(SeedFile(f"data/file-{index:03}.txt", f"{index}\n".encode()) for index in range(count))


def test_batches_respect_the_file_count_and_size_limits():
    assert [len(batch) for batch in codecommit_batches(many_files(250))] == [100, 100, 50]
    big = (SeedFile("a", b"x" * 60), SeedFile("b", b"x" * 60), SeedFile("c", b"x" * 10))
    assert [[f.path for f in batch] for batch in codecommit_batches(big, max_bytes=100)] == [
        ["a"],
        ["b", "c"],
    ]
    with pytest.raises(GitProviderError, match="keep large files out"):
        codecommit_batches((SeedFile("huge", b"x" * 101),), max_bytes=100)


@pytest.fixture
def codecommit() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "codecommit", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


METADATA = {
    "repositoryMetadata": {
        "repositoryName": "churn",
        "Arn": "arn:aws:codecommit:us-east-1:123456789012:churn",
        "cloneUrlHttp": "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/churn",
    }
}


def expect_commit(
    stubber: Stubber, files: list[SeedFile], index: int, total: int, parent: str | None, new: str
):
    expected: dict[str, Any] = {
        "repositoryName": "churn",
        "branchName": "prod",
        "authorName": ANY,
        "email": ANY,
        "commitMessage": f"Project created from the MLOps seed code (seed batch {index}/{total})",
        "putFiles": [{"filePath": f.path, "fileContent": f.content, "fileMode": "NORMAL"} for f in files],
    }
    if parent is not None:
        expected["parentCommitId"] = parent
    stubber.add_response("create_commit", {"commitId": new, "treeId": "t"}, expected)


def test_codecommit_creates_the_repository_and_commits_many_files_in_batches(codecommit):
    client, stubber = codecommit
    files = many_files(CODECOMMIT_MAX_FILES_PER_COMMIT * 2 + 5)
    stubber.add_client_error(
        "get_repository", "RepositoryDoesNotExistException", expected_params={"repositoryName": "churn"}
    )
    stubber.add_response(
        "create_repository",
        METADATA,
        {"repositoryName": "churn", "repositoryDescription": "SageMaker project churn", "tags": TAGS},
    )
    stubber.add_client_error(
        "get_branch",
        "BranchDoesNotExistException",
        expected_params={"repositoryName": "churn", "branchName": "prod"},
    )
    expect_commit(stubber, list(files[:100]), 1, 3, None, "c1")
    expect_commit(stubber, list(files[100:200]), 2, 3, "c1", "c2")
    expect_commit(stubber, list(files[200:]), 3, 3, "c2", "c3")
    stubber.add_response(
        "create_branch", {}, {"repositoryName": "churn", "branchName": "dev", "commitId": "c3"}
    )
    stubber.add_response(
        "update_default_branch", {}, {"repositoryName": "churn", "defaultBranchName": "prod"}
    )

    repository = CodeCommitProvider(client).ensure_repository(
        "churn", description="SageMaker project churn", files=files, tags=TAGS
    )
    assert repository.created
    assert repository.url == METADATA["repositoryMetadata"]["cloneUrlHttp"]


def test_codecommit_resumes_an_interrupted_seed_without_committing_twice(codecommit):
    client, stubber = codecommit
    files = many_files(250)
    stubber.add_response("get_repository", METADATA, {"repositoryName": "churn"})
    expect_tags(stubber, TAGS)
    stubber.add_response("get_branch", {"branch": {"branchName": "prod", "commitId": "c2"}})
    stubber.add_response(
        "get_commit",
        {"commit": {"message": "Project created from the MLOps seed code (seed batch 2/3)\n"}},
        {"repositoryName": "churn", "commitId": "c2"},
    )
    expect_commit(stubber, list(files[200:]), 3, 3, "c2", "c3")
    stubber.add_client_error("create_branch", "BranchNameExistsException")
    stubber.add_response("update_default_branch", {})

    repository = CodeCommitProvider(client).ensure_repository(
        "churn", description="d", files=files, tags=TAGS
    )
    assert not repository.created


def test_codecommit_leaves_a_repository_with_its_own_history_alone(codecommit):
    client, stubber = codecommit
    stubber.add_response("get_repository", METADATA, {"repositoryName": "churn"})
    expect_tags(stubber, {**TAGS, "team": "ml"})
    stubber.add_response("get_branch", {"branch": {"branchName": "prod", "commitId": "work"}})
    stubber.add_response("get_commit", {"commit": {"message": "Fix the feature pipeline"}})
    stubber.add_response(
        "create_branch", {}, {"repositoryName": "churn", "branchName": "dev", "commitId": "work"}
    )
    stubber.add_response("update_default_branch", {})
    CodeCommitProvider(client).ensure_repository("churn", description="d", files=SEED, tags=TAGS)


def expect_tags(stubber: Stubber, tags: dict[str, str]) -> None:
    """ListTagsForResource answered in two pages (the provider follows nextToken)."""
    arn = METADATA["repositoryMetadata"]["Arn"]
    items = list(tags.items())
    stubber.add_response(
        "list_tags_for_resource", {"tags": dict(items[:1]), "nextToken": "n"}, {"resourceArn": arn}
    )
    stubber.add_response(
        "list_tags_for_resource", {"tags": dict(items[1:])}, {"resourceArn": arn, "nextToken": "n"}
    )


@pytest.mark.parametrize(
    "tags",
    [{}, {"mlops:project": "churn"}, {"mlops:project": "fraud", "mlops:managed-by": "mlops"}],
    ids=["untagged", "not-managed", "another-project"],
)
def test_codecommit_refuses_a_repository_that_is_not_this_projects(codecommit, tags):
    client, stubber = codecommit
    stubber.add_response("get_repository", METADATA, {"repositoryName": "churn"})
    stubber.add_response("list_tags_for_resource", {"tags": tags})
    # Nothing else is called: no commit, no branch, no default-branch change.
    with pytest.raises(
        GitProviderError,
        match=r"CodeCommit repository churn exists but is not project churn's .*mlops:managed-by=mlops",
    ):
        CodeCommitProvider(client).ensure_repository("churn", description="d", files=SEED, tags=TAGS)


def test_codecommit_errors_name_the_repository_and_the_call(codecommit):
    client, stubber = codecommit
    stubber.add_client_error(
        "get_repository", "AccessDeniedException", "not authorized to codecommit:GetRepository"
    )
    with pytest.raises(
        GitProviderError, match="CodeCommit repository churn: GetRepository failed: AccessDeniedException"
    ):
        CodeCommitProvider(client).ensure_repository("churn", description="d", files=SEED, tags=TAGS)


def test_codecommit_archive_tags_and_delete_deletes(codecommit):
    client, stubber = codecommit
    stubber.add_response("get_repository", METADATA)
    stubber.add_response(
        "tag_resource",
        {},
        {"resourceArn": METADATA["repositoryMetadata"]["Arn"], "tags": {"mlops:archived": "true"}},
    )
    stubber.add_response("delete_repository", {"repositoryId": "id"}, {"repositoryName": "churn"})
    provider = CodeCommitProvider(client)
    assert provider.retire_repository("churn", RepositoryRetention.RETAIN) == "retained"
    assert provider.retire_repository("churn", RepositoryRetention.ARCHIVE) == "archived"
    assert provider.retire_repository("churn", RepositoryRetention.DELETE) == "deleted"


# ----------------------------------------------------------------------------------------- GitHub

TOKEN = "ghp_local"


class FakeGitHub:
    """The GitHub REST calls the provider makes, kept in memory."""

    def __init__(self) -> None:
        self.repositories: dict[str, dict[str, Any]] = {}
        self.objects: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.protection: dict[str, Any] = {}
        self.generating: int = 0  # how many more reads of a generated repository's branch answer 404

    def handle(self, method: str, path: str, body: Any, token: str) -> tuple[int, Any]:
        self.calls.append(f"{method} {path}")
        if token != f"Bearer {TOKEN}":
            return 401, {"message": "Bad credentials"}
        parts = path.strip("/").split("/")
        if method == "POST" and parts[-1] == "generate":  # POST /repos/{owner}/{template}/generate
            blob = self._store({"type": "blobs", "content": base64.b64encode(b"from the template").decode()})
            tree = self._store({"type": "trees", "tree": [{"path": "TEMPLATE.md", "sha": blob}]})
            head = self._store({"type": "commits", "tree": tree, "parents": [], "template": parts[2]})
            self.repositories[body["name"]] = {
                "name": body["name"],
                "clone_url": f"https://github.example/{body['owner']}/{body['name']}.git",
                "default_branch": "main",
                "archived": False,
                "topics": [],
                "refs": {"main": head},
            }
            return 201, self._public(body["name"])
        if method == "POST" and parts[0] == "orgs":
            name = body["name"]
            readme = self._store({"type": "commit", "tree": [], "parents": []})
            self.repositories[name] = {
                "name": name,
                "clone_url": f"https://github.example/{parts[1]}/{name}.git",
                "default_branch": "main",
                "archived": False,
                "topics": [],
                "refs": {"main": readme},
            }
            return 201, self._public(name)
        name = parts[2]
        repository = self.repositories.get(name)
        if repository is None:
            return 404, {"message": "Not Found"}
        rest = parts[3:]
        if not rest:
            if method == "GET":
                return 200, self._public(name)
            if method == "PATCH":
                repository.update(body)
                return 200, self._public(name)
            if method == "DELETE":
                del self.repositories[name]
                return 204, None
        if rest[:3] == ["git", "ref", "heads"] and method == "GET":
            if rest[3] == "main" and self.generating > 0:
                self.generating -= 1
                return 404, {"message": "Not Found"}
            sha = repository["refs"].get(rest[3])
            return (200, {"object": {"sha": sha}}) if sha else (404, {"message": "Not Found"})
        if rest == ["git", "refs"] and method == "POST":
            branch = body["ref"].removeprefix("refs/heads/")
            if branch in repository["refs"]:
                return 422, {"message": "Reference already exists"}
            repository["refs"][branch] = body["sha"]
            return 201, {"ref": body["ref"]}
        if rest in (["git", "blobs"], ["git", "trees"], ["git", "commits"]) and method == "POST":
            return 201, {"sha": self._store({"type": rest[1], **body})}
        if rest == ["topics"] and method == "PUT":
            repository["topics"] = body["names"]
            return 200, {"names": body["names"]}
        if rest[:1] == ["branches"] and rest[2:] == ["protection"] and method == "PUT":
            self.protection[rest[1]] = body
            return 200, {}
        if rest[:2] == ["actions", "variables"]:
            return self._variables(repository.setdefault("variables", {}), method, rest[2:], body)
        return 404, {"message": f"no route {method} {path}"}

    @staticmethod
    def _variables(variables: dict[str, str], method: str, rest: list[str], body: Any) -> tuple[int, Any]:
        """REST API "Actions variables" of a repository: POST creates (201; 409 when it exists), GET,
        PATCH (204) and DELETE (204) name one; names are letters, digits and _, not starting with a
        digit or GITHUB_ (GitHub's "Naming conventions for configuration variables")."""
        if not rest and method == "POST":
            name = body["name"]
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name.upper().startswith("GITHUB_"):
                return 422, {"message": f"invalid variable name {name}"}
            if name.upper() in variables:
                return 409, {"message": "Already exists - Variable already exists"}
            variables[name.upper()] = str(body["value"])
            return 201, {}
        if len(rest) == 1:
            name = rest[0].upper()
            if name not in variables:
                return 404, {"message": "Not Found"}
            if method == "GET":
                return 200, {"name": name, "value": variables[name], "created_at": "2026-01-01T00:00:00Z"}
            if method == "PATCH":
                variables[name] = str(body["value"])
                return 204, None
            if method == "DELETE":
                del variables[name]
                return 204, None
        return 404, {"message": "Not Found"}

    def files_on(self, name: str, branch: str) -> dict[str, bytes]:
        commit = self.objects[self.repositories[name]["refs"][branch]]
        tree = self.objects[commit["tree"]]
        return {
            entry["path"]: base64.b64decode(self.objects[entry["sha"]]["content"]) for entry in tree["tree"]
        }

    def _store(self, value: dict[str, Any]) -> str:
        sha = hashlib.sha1(json.dumps(value, sort_keys=True).encode()).hexdigest()
        self.objects[sha] = value
        return sha

    def _public(self, name: str) -> dict[str, Any]:
        return {
            key: value for key, value in self.repositories[name].items() if key not in ("refs", "variables")
        }


class RestApi(Protocol):
    def handle(
        self, method: str, path: str, body: Any, authorization: str
    ) -> tuple[int, Any]: ...  # (HTTP status, JSON payload or None)


class FakeRestServer(LoopbackServer):
    """Serves a fake REST API (its ``handle``) on a loopback port."""

    def __init__(self, fake: RestApi) -> None:
        self.fake = fake
        self._listen()

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self.fake

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                authorization = self.headers.get("Authorization", "")
                status, payload = fake.handle(self.command, self.path, body, authorization)
                answer(self, status, b"" if payload is None else json.dumps(payload).encode())

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class FakeGitHubServer(FakeRestServer):
    """Serves a FakeGitHub's REST API on a loopback port."""

    THREAD_NAME = "fake-github"


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    with FakeGitHubServer(FakeGitHub()) as server:
        yield server.fake, server.base_url


def test_github_repository_gets_the_seed_on_a_protected_prod_and_dev_once(github):
    fake, url = github
    provider = GitHubProvider(organization="acme", token=lambda: TOKEN, api_url=url)
    first = provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    calls_after_create = len(fake.calls)
    second = provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)

    assert (first.created, second.created) == (True, False)
    assert first.url == "https://github.example/acme/churn.git"
    assert fake.files_on("churn", "prod") == {file.path: file.content for file in SEED}
    refs = fake.repositories["churn"]["refs"]
    assert refs["dev"] == refs["prod"]
    assert fake.repositories["churn"]["default_branch"] == "prod"
    assert fake.repositories["churn"]["topics"] == ["mlops-project-churn"]
    assert fake.protection["prod"]["required_pull_request_reviews"]["required_approving_review_count"] == 1
    second_run = fake.calls[calls_after_create:]
    assert not [call for call in second_run if "/git/" in call and call.startswith("POST")]  # no new commit


def test_github_archive_and_delete(github):
    fake, url = github
    provider = GitHubProvider(organization="acme", token=lambda: TOKEN, api_url=url, protect_prod=False)
    provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    assert fake.protection == {}
    assert provider.retire_repository("churn", RepositoryRetention.ARCHIVE) == "archived"
    assert fake.repositories["churn"]["archived"] is True
    assert provider.retire_repository("churn", RepositoryRetention.DELETE) == "deleted"
    assert "churn" not in fake.repositories
    assert provider.retire_repository("churn", RepositoryRetention.DELETE) == "absent"
    assert provider.retire_repository("churn", RepositoryRetention.ARCHIVE) == "absent"


def test_github_refuses_a_repository_without_the_projects_topic(github):
    fake, url = github
    provider = GitHubProvider(organization="acme", token=lambda: TOKEN, api_url=url)
    provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    fraud = {**TAGS, "mlops:project": "fraud"}
    calls = len(fake.calls)
    with pytest.raises(
        GitProviderError, match=r"acme/churn exists but is not project fraud's .*mlops-project-fraud"
    ):
        provider.ensure_repository("churn", description="d", files=SEED, tags=fraud)
    assert fake.calls[calls:] == ["GET /repos/acme/churn"]  # refused before any change


def test_github_errors_say_what_to_fix(github):
    _, url = github
    provider = GitHubProvider(organization="acme", token=lambda: "wrong", api_url=url)
    with pytest.raises(GitProviderError, match=r"GitHub GET /repos/acme/churn answered 401.*token's scopes"):
        provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    unreachable = GitHubProvider(organization="acme", token=lambda: TOKEN, api_url="http://127.0.0.1:9")
    with pytest.raises(GitProviderError, match="unreachable"):
        unreachable.ensure_repository("churn", description="d", files=SEED, tags=TAGS)


def test_github_repository_generated_from_a_template_repository(github):
    fake, url = github
    waits: list[float] = []
    provider = GitHubProvider(
        organization="acme",
        token=lambda: TOKEN,
        api_url=url,
        template_repository="acme/ml-template",
        wait=waits.append,
    )
    fake.generating = 2  # GitHub generates the repository asynchronously
    repository = provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)

    assert repository.created
    assert "POST /repos/acme/ml-template/generate" in fake.calls
    assert not [call for call in fake.calls if call.endswith("/git/blobs")]  # the template is the seed
    assert fake.files_on("churn", "prod") == {"TEMPLATE.md": b"from the template"}
    refs = fake.repositories["churn"]["refs"]
    assert refs["prod"] == refs["dev"] == refs["main"]
    assert waits == [1.0, 1.0]


def test_github_says_when_a_generated_repository_is_not_ready(github):
    fake, url = github
    provider = GitHubProvider(
        organization="acme",
        token=lambda: TOKEN,
        api_url=url,
        template_repository="acme/ml-template",
        generation_checks=3,
        wait=lambda seconds: None,
    )
    fake.generating = 5
    with pytest.raises(GitProviderError, match=r"has not finished generating .* retry"):
        provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    fake.generating = 0
    assert provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS).created is False


@mock_aws
def test_github_token_comes_from_secrets_manager():
    client = boto3.client("secretsmanager", region_name="us-east-1")
    client.create_secret(Name="github/plain", SecretString=TOKEN)
    client.create_secret(Name="github/json", SecretString=json.dumps({"token": TOKEN}))
    assert secrets_manager_token(client, "github/plain")() == TOKEN
    assert secrets_manager_token(client, "github/json")() == TOKEN
    with pytest.raises(GitProviderError, match="cannot read the GitHub token from secret github/none"):
        secrets_manager_token(client, "github/none")()
    client.create_secret(Name="github/broken", SecretString='{"token": ghp_unquoted}')
    with pytest.raises(GitProviderError, match="secret github/broken is not valid JSON") as refused:
        secrets_manager_token(client, "github/broken")()
    assert "ghp_unquoted" not in str(refused.value)  # the secret is never in a message
    client.create_secret(Name="github/list", SecretString='{"tokens": ["x"]}')
    with pytest.raises(GitProviderError, match="holds no GitHub token"):
        secrets_manager_token(client, "github/list")()


def test_github_ci_trust_names_the_repository_and_its_branches(github):
    _, url = github
    provider = GitHubProvider(
        organization="acme",
        token=lambda: TOKEN,
        api_url=url,
        oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
    )
    trust = provider.ci_trust("churn")
    assert trust.issuer == "token.actions.githubusercontent.com"
    assert trust.audience == "sts.amazonaws.com"
    assert trust.subjects == (
        "repo:acme/churn:ref:refs/heads/feature-*",
        "repo:acme/churn:ref:refs/heads/dev",
        "repo:acme/churn:ref:refs/heads/prod",
    )
    without = GitHubProvider(organization="acme", token=lambda: TOKEN, api_url=url)
    with pytest.raises(GitProviderError, match="needs GitHub's OIDC provider ARN"):
        without.ci_trust("churn")


def test_github_ci_variables_are_created_updated_only_when_changed_and_removed(github):
    fake, url = github
    provider = GitHubProvider(organization="acme", token=lambda: TOKEN, api_url=url, protect_prod=False)
    provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    provider.set_ci_variables("churn", {"MLOPS_PROJECT": "churn", "AWS_REGION": "eu-west-1"})
    calls = len(fake.calls)
    provider.set_ci_variables("churn", {"MLOPS_PROJECT": "churn", "AWS_REGION": "eu-central-1"})

    assert fake.repositories["churn"]["variables"] == {"MLOPS_PROJECT": "churn", "AWS_REGION": "eu-central-1"}
    assert [call for call in fake.calls[calls:] if not call.startswith("GET")] == [
        "PATCH /repos/acme/churn/actions/variables/AWS_REGION"
    ]
    fake.repositories["churn"]["variables"]["OTHER"] = "kept"  # set by the team: never removed
    assert provider.remove_ci_variables("churn", ["MLOPS_PROJECT", "AWS_REGION", "GONE"]) == (
        "MLOPS_PROJECT",
        "AWS_REGION",
    )
    assert fake.repositories["churn"]["variables"] == {"OTHER": "kept"}
    provider.retire_repository("churn", RepositoryRetention.DELETE)
    assert provider.remove_ci_variables("churn", ["MLOPS_PROJECT"]) == ()  # the repository is gone
