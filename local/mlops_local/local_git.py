"""The local git provider: a project's repository as a bare repository in a directory of the local cloud
(``LocalCloud.git_root``), written with git's plumbing commands, so that demos and tests have real
commits and branches. The product does not ship it: the local cloud adds it by name while it is open
(``mlops_core.adapters.git_providers.add_git_provider``), which is what ``DefaultGitProvider=local``
and a project's ``GitProvider: local`` choose.

Like every provider it is idempotent, and it adopts an existing repository only when it is this
project's: an ``mlops-project.json`` file in the bare repository, written when it is created, carries
the project's mark, or the repository is still empty.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from mlops_core.adapters.git_providers import (
    COMMIT_AUTHOR_EMAIL,
    COMMIT_AUTHOR_NAME,
    DEV_BRANCH,
    PROD_BRANCH,
    SEED_COMMIT_MESSAGE,
    not_this_projects,
    project_mark,
)
from mlops_core.contract.git_provider_name import GitProviderName
from mlops_core.contract.project_record import RepositoryRetention
from mlops_core.projects.ports import GitProviderError, Repository, SeedFile

LOCAL_MARK_FILE = "mlops-project.json"


class LocalGitProvider:
    """Bare repositories ``{root}/{name}.git``, written with git's plumbing (no working tree).

    Archiving moves a repository to ``{root}/archived/{name}.git``, or, when an earlier archive of
    that name is there, to ``{root}/archived/{name}-{UTC time}.git``: no archive is overwritten.
    """

    name = GitProviderName.LOCAL

    def __init__(
        self, root: Path, git: str = "git", now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._root = root
        self._git = git
        self._now = now

    def ensure_repository(
        self, name: str, *, description: str, files: Sequence[SeedFile], tags: dict[str, str]
    ) -> Repository:
        path = self._root / f"{name}.git"
        created = not (path / "HEAD").is_file()
        if created:
            try:
                if path.exists() and (not path.is_dir() or any(path.iterdir())):
                    raise GitProviderError(
                        f"cannot create repository {path}: something else is there; remove it or "
                        "choose another RepositoryName (in LocalCloud.git_root)"
                    )
                path.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise GitProviderError(
                    f"cannot create repository {path} ({error.strerror}); check LocalCloud.git_root"
                ) from None
            self._run(path, "init", "--quiet", "--bare", f"--initial-branch={PROD_BRANCH}")
            self._write(path / "description", description + "\n")
            self._write(path / LOCAL_MARK_FILE, json.dumps(project_mark(tags), sort_keys=True) + "\n")
        else:
            self._check_mark(path, tags)
        prod = self._branch_head(path, PROD_BRANCH)
        if prod is None:
            self._run(path, "fast-import", "--quiet", stdin=_fast_import_stream(PROD_BRANCH, files))
            prod = self._branch_head(path, PROD_BRANCH)
            assert prod is not None
        if self._branch_head(path, DEV_BRANCH) is None:
            # The empty old value makes update-ref create the branch only if it is still absent.
            self._run(path, "update-ref", f"refs/heads/{DEV_BRANCH}", prod, "")
        return Repository(self.name, name, path.resolve().as_uri(), created)

    def _check_mark(self, path: Path, tags: dict[str, str]) -> None:
        """Adopt an existing repository only if it is marked as this project's, or still empty."""
        mark_file = path / LOCAL_MARK_FILE
        try:
            mark = json.loads(mark_file.read_text()) if mark_file.is_file() else None
        except (OSError, ValueError):
            mark = None
        if mark == project_mark(tags):
            return
        if mark is None and not self._has_refs(path):
            self._write(mark_file, json.dumps(project_mark(tags), sort_keys=True) + "\n")
            return
        raise not_this_projects(f"repository {path}", tags, f"a matching {LOCAL_MARK_FILE}")

    def retire_repository(self, name: str, retention: RepositoryRetention) -> str:
        path = self._root / f"{name}.git"
        if not path.exists():
            return "absent"
        try:
            if retention is RepositoryRetention.DELETE:
                shutil.rmtree(path)
                return "deleted"
            if retention is RepositoryRetention.ARCHIVE:
                archive = self._root / "archived"
                archive.mkdir(parents=True, exist_ok=True)
                target = archive / path.name
                if target.exists():  # an earlier project of that name was archived: keep it too
                    stamp = self._now().strftime("%Y%m%dT%H%M%SZ")
                    target = archive / f"{name}-{stamp}.git"
                    suffix = 1
                    while target.exists():
                        suffix += 1
                        target = archive / f"{name}-{stamp}-{suffix}.git"
                path.rename(target)
                return "archived"
        except OSError as error:
            raise GitProviderError(
                f"cannot {retention.value} repository {path} ({error.strerror}); it is kept"
            ) from None
        return "retained"

    def _has_refs(self, path: Path) -> bool:
        result = subprocess.run(
            [self._git, "-C", str(path), "for-each-ref", "--count=1"], capture_output=True, check=False
        )
        return bool(result.stdout.strip()) or result.returncode != 0

    @staticmethod
    def _write(path: Path, text: str) -> None:
        try:
            path.write_text(text)
        except OSError as error:
            raise GitProviderError(
                f"cannot write {path} ({error.strerror}); check LocalCloud.git_root"
            ) from None

    def _branch_head(self, path: Path, branch: str) -> str | None:
        result = subprocess.run(
            [self._git, "-C", str(path), "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
            capture_output=True,
            check=False,
        )
        return result.stdout.decode().strip() or None

    def _run(self, path: Path, *args: str, stdin: bytes | None = None) -> None:
        try:
            subprocess.run([self._git, "-C", str(path), *args], input=stdin, capture_output=True, check=True)
        except FileNotFoundError:
            raise GitProviderError(f"the local git provider needs the git command ({self._git})") from None
        except subprocess.CalledProcessError as error:
            raise GitProviderError(
                f"git {args[0]} failed in {path}: {error.stderr.decode(errors='replace').strip()}"
            ) from None


def _fast_import_stream(branch: str, files: Sequence[SeedFile]) -> bytes:
    """One commit holding ``files``, as ``git fast-import`` reads it."""
    message = SEED_COMMIT_MESSAGE.encode()
    who = f"{COMMIT_AUTHOR_NAME} <{COMMIT_AUTHOR_EMAIL}> 0 +0000".encode()
    parts = [b"commit refs/heads/" + branch.encode(), b"author " + who, b"committer " + who]
    parts.append(b"data %d" % len(message))
    parts.append(message)
    for file in files:
        mode = b"100755" if file.executable else b"100644"
        parts.append(b"M " + mode + b" inline " + file.path.encode())
        parts.append(b"data %d" % len(file.content))
        parts.append(file.content)
    return b"\n".join(parts) + b"\n"
