"""The data scientist's side of git in the demo: a working copy of a project's repository (git CLI).

The local git provider keeps bare repositories under ``LocalCloud.git_root``; the demo clones one,
commits on branches, merges and pushes as a person would. Nothing here talks to the control plane:
the local git server emits no events, so the demo sends what the project's CI would send.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

AUTHOR = ("Dana Scientist", "dana@example.com")
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": AUTHOR[0],
    "GIT_AUTHOR_EMAIL": AUTHOR[1],
    "GIT_COMMITTER_NAME": AUTHOR[0],
    "GIT_COMMITTER_EMAIL": AUTHOR[1],
    "GIT_CONFIG_NOSYSTEM": "1",  # the machine's git settings (signing, hooks paths) stay out of it
    "GIT_TERMINAL_PROMPT": "0",
}


def git(directory: Path, *args: str) -> str:
    """Run git in ``directory``; its output (stripped). CalledProcessError says what git said."""
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-C", str(directory), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **_GIT_IDENTITY},
        check=False,
    )
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, ["git", *args], result.stdout, result.stderr)
    return result.stdout.strip()


def branches(repository: Path) -> dict[str, str]:
    """Branch name → head commit of a (bare) repository."""
    listed = git(repository, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads")
    return dict(line.split(" ", 1) for line in listed.splitlines() if line)


class WorkingCopy:
    """A clone of ``origin`` in ``directory``; every change is pushed at once."""

    def __init__(self, origin: Path, directory: Path) -> None:
        self.origin = origin
        self.directory = directory
        git(directory.parent, "clone", "--quiet", str(origin), str(directory))

    def commit(self, branch: str, message: str, files: dict[str, str], *, start: str = "dev") -> str:
        """Commit ``files`` (path → text) on ``branch`` (created from ``start`` if new) and push; its sha."""
        self._checkout(branch, start)
        for name, text in files.items():
            path = self.directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            git(self.directory, "add", name)
        git(self.directory, "commit", "--quiet", "-m", message)
        return self._push(branch)

    def merge(self, source: str, into: str, message: str) -> str:
        """Merge ``source`` into ``into`` with a merge commit (as a pull request does) and push; its sha."""
        self._checkout(into, into)
        git(self.directory, "merge", "--quiet", "--no-ff", "-m", message, f"origin/{source}")
        return self._push(into)

    def revert(self, branch: str, commit: str) -> str:
        """Revert ``commit`` on ``branch`` and push; the revert's sha."""
        self._checkout(branch, branch)
        git(self.directory, "revert", "--no-edit", commit)
        return self._push(branch)

    def head(self, branch: str) -> str:
        return git(self.directory, "rev-parse", f"origin/{branch}")

    def _checkout(self, branch: str, start: str) -> None:
        git(self.directory, "fetch", "--quiet", "origin")
        remote = git(self.directory, "branch", "--remotes", "--list", f"origin/{branch}")
        if remote:
            git(self.directory, "checkout", "--quiet", "-B", branch, f"origin/{branch}")
        else:
            git(self.directory, "checkout", "--quiet", "-B", branch, f"origin/{start}")

    def _push(self, branch: str) -> str:
        git(self.directory, "push", "--quiet", "origin", f"{branch}:{branch}")
        return git(self.directory, "rev-parse", "HEAD")
