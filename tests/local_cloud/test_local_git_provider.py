"""The local cloud's git provider: real bare repositories in a directory, written with git's plumbing."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mlops_core.contract.project_record import RepositoryRetention
from mlops_core.projects.ports import GitProviderError, SeedFile
from mlops_local.local_git import LocalGitProvider

SEED = (
    SeedFile("README.md", b"# project\n"),
    SeedFile("pipelines/train.py", b"print('train')\n"),
    SeedFile("scripts/run.sh", b"#!/bin/sh\necho run\n", executable=True),
)
TAGS = {"mlops:project": "churn", "mlops:managed-by": "mlops"}


def git(repository: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repository), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_local_repository_has_the_seed_on_prod_and_dev_from_it_once(tmp_path):
    provider = LocalGitProvider(tmp_path)
    first = provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    second = provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)

    repository = tmp_path / "churn.git"
    assert (first.created, second.created) == (True, False)
    assert first.url == second.url == repository.resolve().as_uri()
    assert git(repository, "rev-list", "--all", "--count") == "1"
    assert git(repository, "rev-parse", "dev") == git(repository, "rev-parse", "prod")
    assert git(repository, "symbolic-ref", "HEAD") == "refs/heads/prod"
    listing = git(repository, "ls-tree", "-r", "prod")
    assert "100755 blob" in next(line for line in listing.splitlines() if line.endswith("scripts/run.sh"))
    assert git(repository, "show", "prod:pipelines/train.py") == "print('train')"


def test_local_repository_can_be_cloned_and_a_missing_dev_branch_is_restored(tmp_path):
    provider = LocalGitProvider(tmp_path / "repos")
    repository = provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    bare = tmp_path / "repos" / "churn.git"
    git(bare, "update-ref", "-d", "refs/heads/dev")
    provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    assert git(bare, "rev-parse", "dev") == git(bare, "rev-parse", "prod")
    subprocess.run(["git", "clone", "--quiet", repository.url, str(tmp_path / "clone")], check=True)
    assert (tmp_path / "clone" / "README.md").read_text() == "# project\n"


@pytest.mark.parametrize(
    ("retention", "result", "where"),
    [
        (RepositoryRetention.RETAIN, "retained", "churn.git"),
        (RepositoryRetention.ARCHIVE, "archived", "archived/churn.git"),
        (RepositoryRetention.DELETE, "deleted", None),
    ],
)
def test_local_retention(tmp_path, retention, result, where):
    provider = LocalGitProvider(tmp_path)
    provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    assert provider.retire_repository("churn", retention) == result
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.glob("**/*.git")) == (
        [where] if where else []
    )
    second_delete = "deleted" if retention is RepositoryRetention.RETAIN else "absent"
    assert provider.retire_repository("churn", RepositoryRetention.DELETE) == second_delete


def test_local_archive_keeps_an_earlier_archive_of_the_same_name(tmp_path):
    moments = iter([datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)] * 2)
    provider = LocalGitProvider(tmp_path, now=lambda: next(moments))
    provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    first_prod = git(tmp_path / "churn.git", "rev-parse", "prod")
    assert provider.retire_repository("churn", RepositoryRetention.ARCHIVE) == "archived"
    for _ in range(2):  # the project is re-created and archived again, twice in the same second
        provider.ensure_repository("churn", description="d", files=(SeedFile("NEW.md", b"new"),), tags=TAGS)
        assert provider.retire_repository("churn", RepositoryRetention.ARCHIVE) == "archived"
    archived = sorted(path.name for path in (tmp_path / "archived").iterdir())
    assert archived == ["churn-20240501T120000Z-2.git", "churn-20240501T120000Z.git", "churn.git"]
    assert git(tmp_path / "archived" / "churn.git", "rev-parse", "prod") == first_prod


def test_local_retention_errors_are_provider_errors_and_keep_the_repository(tmp_path):
    provider = LocalGitProvider(tmp_path)
    provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    (tmp_path / "archived").write_text("a file where the archive directory should be")
    with pytest.raises(GitProviderError, match=r"cannot archive repository .*churn.git .*it is kept"):
        provider.retire_repository("churn", RepositoryRetention.ARCHIVE)
    assert (tmp_path / "churn.git" / "HEAD").is_file()


def test_local_adopts_only_its_own_or_an_empty_repository(tmp_path):
    provider = LocalGitProvider(tmp_path)
    provider.ensure_repository("churn", description="d", files=SEED, tags=TAGS)
    # Another project naming churn's repository is refused, and nothing is written to it.
    prod = git(tmp_path / "churn.git", "rev-parse", "prod")
    with pytest.raises(GitProviderError, match=r"is not project fraud's .*choose another RepositoryName"):
        provider.ensure_repository(
            "churn", description="d", files=SEED, tags={**TAGS, "mlops:project": "fraud"}
        )
    assert git(tmp_path / "churn.git", "rev-parse", "prod") == prod
    # Someone's own repository (no mark) with history is refused.
    subprocess.run(["git", "init", "--quiet", "--bare", str(tmp_path / "theirs.git")], check=True)
    git(tmp_path / "theirs.git", "fetch", "--quiet", str(tmp_path / "churn.git"), "prod:main")
    with pytest.raises(GitProviderError, match=r"mlops-project\.json"):
        provider.ensure_repository("theirs", description="d", files=SEED, tags=TAGS)
    assert git(tmp_path / "theirs.git", "for-each-ref", "--format=%(refname)") == "refs/heads/main"
    # An empty one (e.g. left by an interrupted Create) is adopted and marked.
    subprocess.run(["git", "init", "--quiet", "--bare", str(tmp_path / "empty.git")], check=True)
    assert provider.ensure_repository("empty", description="d", files=SEED, tags=TAGS).created is False
    assert git(tmp_path / "empty.git", "rev-parse", "dev") == git(tmp_path / "empty.git", "rev-parse", "prod")
    # A directory that is not a repository is not turned into one.
    (tmp_path / "stuff.git").mkdir()
    (tmp_path / "stuff.git" / "notes.txt").write_text("mine")
    with pytest.raises(GitProviderError, match="something else is there"):
        provider.ensure_repository("stuff", description="d", files=SEED, tags=TAGS)
