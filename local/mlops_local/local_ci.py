"""The local cloud's CI for the local git provider: a push to a project's branch runs what the project's
CI definition (seed-code/buildspec.yml, .github/workflows/) runs, far enough to register a version.

    result = push(cloud, "churn", "feature-faster", {"steps/preprocess.py": b"..."}, message="Faster")
    result.action        # "train": what the pushed code's `python -m pipelines.run action` says
    result.version_arn   # the version registered in churn-feature, with the pushed commit as lineage

The steps, each from the pushed commit's own code (a checkout of it):

1. the branch's action: ``python -m pipelines.run action --branch B`` (``train``, ``promote`` or
   ``none``);
2. ``train``: the group is ``pipelines.stages.Target``'s (``{project}-{stage}``). Training is **replaced
   by the local demo model** (mlops_local.demo_model, ``GOOD_MODEL``): the version is registered pending
   approval, with the commit and repository as its lineage and ``mlops:trained-by`` saying it is the
   local stand-in, not the template's pipeline. On ``dev``, the integration test suite
   (``integration-tests/suite.yaml``) is synced, as ``scripts/sync-integration-tests.sh`` does;
3. ``promote`` (``prod``): ``Git Branch Updated`` on the application bus, as the promote workflow puts
   it (the merged dev commit is the merge commit's second parent).

The unit tests of step 1 of the real CI (``python -m pytest``) are not run: they need the project's
own environment (the SageMaker SDK), which the local cloud does not install.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from mlops_core.adapters.git_providers import COMMIT_AUTHOR_EMAIL, COMMIT_AUTHOR_NAME, DEV_BRANCH, PROD_BRANCH
from mlops_core.suite_tool import write_suite

from mlops_local.demo_model import GOOD_MODEL, register_demo_version
from mlops_local.local_git import LOCAL_MARK_FILE

if TYPE_CHECKING:
    from mlops_local.cloud import LocalCloud
    from mlops_local.trace import Trace

TRAINED_BY_LOCAL_MODEL = "local-demo-model (stands in for the project's training pipeline)"


class LocalCiError(RuntimeError):
    """The push or a CI step failed; the message says which and why."""


@dataclass(frozen=True)
class PushResult:
    branch: str
    commit: str
    action: str  # train, promote or none
    version_arn: str | None = None  # train: the version registered
    events: tuple[dict[str, Any], ...] = ()  # promote: what was put on the application bus
    trace: Trace | None = None  # promote: where the control plane routed it, and what its functions did


def push(
    cloud: LocalCloud,
    repository: str,
    branch: str,
    files: Mapping[str, bytes],
    *,
    message: str,
    base: str | None = None,
    merge: str | None = None,
) -> PushResult:
    """Commit ``files`` on ``branch`` of the local repository (a new branch starts at ``base``, by
    default ``dev``; ``merge`` adds that branch's head as a second parent, as merging it would), then
    run the project's CI on the pushed commit."""
    bare = cloud.git_root / f"{repository}.git"
    parent = _head(bare, branch) or _head(bare, base or DEV_BRANCH)
    if parent is None:
        raise LocalCiError(f"repository {bare} has neither {branch} nor {base or DEV_BRANCH}")
    parents = [parent] + ([merged] if merge and (merged := _head(bare, merge)) else [])
    commit = _commit(bare, parents, files, message)
    _git(bare, "update-ref", f"refs/heads/{branch}", commit)
    return run_ci(cloud, repository, branch, commit)


def run_ci(cloud: LocalCloud, repository: str, branch: str, commit: str) -> PushResult:
    """The project's CI steps for a push of ``commit`` to ``branch`` (module docstring)."""
    bare = cloud.git_root / f"{repository}.git"
    project = _project(bare)
    with tempfile.TemporaryDirectory(prefix="mlops-local-ci-") as directory:
        checkout = Path(directory)
        archive = _git(bare, "archive", "--format=tar", commit)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(checkout, filter="data")
        action = _python(checkout, "-m", "pipelines.run", "action", "--branch", branch)
        if action == "train":
            group = _python(
                checkout,
                "-c",
                "import sys; from pipelines.stages import Target; "
                "print(Target.for_branch(sys.argv[1], sys.argv[2]).model_package_group)",
                project,
                branch,
            )
            arn = register_demo_version(
                cloud.session,
                group,
                GOOD_MODEL,
                commit_id=commit,
                repository=repository,
                customer_metadata={"mlops:branch": branch, "mlops:trained-by": TRAINED_BY_LOCAL_MODEL},
            )
            if branch == DEV_BRANCH:
                suite = checkout / "integration-tests" / "suite.yaml"
                write_suite(
                    cloud.session.client("dynamodb"),
                    cloud.outputs["ConfigTableName"],
                    f"{project}-{DEV_BRANCH}",
                    yaml.safe_load(suite.read_text()),
                    source="integration-tests/suite.yaml",
                )
            return PushResult(branch, commit, action, version_arn=arn)
    if action == "promote":
        parents = _git(bare, "rev-list", "--parents", "-n", "1", commit).decode().split()[1:]
        detail: dict[str, Any] = {
            "repository": repository,
            "branch": PROD_BRANCH,
            "commit_id": commit,
            "provider": "local",
            "project": project,
        }
        if len(parents) > 1:
            detail["merged_commit_id"] = parents[1]
        event = {"source": "mlops.ci", "detail-type": "Git Branch Updated", "detail": detail}
        trace = cloud.send(event, cloud.bus_for(event))
        return PushResult(branch, commit, action, events=(event,), trace=trace)
    return PushResult(branch, commit, action)


def _project(bare: Path) -> str:
    try:
        mark = json.loads((bare / LOCAL_MARK_FILE).read_text())
    except (OSError, ValueError) as error:
        raise LocalCiError(f"{bare} is not a project's repository ({LOCAL_MARK_FILE}: {error})") from None
    return str(mark["mlops:project"])


def _head(bare: Path, branch: str) -> str | None:
    result = subprocess.run(
        ["git", "-C", str(bare), "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
        capture_output=True,
        check=False,
    )
    return result.stdout.decode().strip() or None


def _commit(bare: Path, parents: list[str], files: Mapping[str, bytes], message: str) -> str:
    """A commit of ``parents[0]``'s tree with ``files`` written (git's plumbing, a temporary index)."""
    with tempfile.TemporaryDirectory(prefix="mlops-local-index-") as directory:
        environment = {"GIT_INDEX_FILE": str(Path(directory) / "index")}
        _git(bare, "read-tree", parents[0], environment=environment)
        for path, content in files.items():
            blob = _git(bare, "hash-object", "-w", "--stdin", stdin=content).decode().strip()
            _git(
                bare, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", environment=environment
            )
        tree = _git(bare, "write-tree", environment=environment).decode().strip()
    who = {
        "GIT_AUTHOR_NAME": COMMIT_AUTHOR_NAME,
        "GIT_AUTHOR_EMAIL": COMMIT_AUTHOR_EMAIL,
        "GIT_COMMITTER_NAME": COMMIT_AUTHOR_NAME,
        "GIT_COMMITTER_EMAIL": COMMIT_AUTHOR_EMAIL,
    }
    arguments = [argument for parent in parents for argument in ("-p", parent)]
    return _git(bare, "commit-tree", tree, *arguments, "-m", message, environment=who).decode().strip()


def _git(
    bare: Path, *args: str, stdin: bytes | None = None, environment: dict[str, str] | None = None
) -> bytes:
    try:
        return subprocess.run(
            ["git", "-C", str(bare), *args],
            input=stdin,
            capture_output=True,
            check=True,
            env={**os.environ, **(environment or {})},
        ).stdout
    except subprocess.CalledProcessError as error:
        raise LocalCiError(f"git {args[0]} failed in {bare}: {error.stderr.decode().strip()}") from None


def _python(checkout: Path, *args: str) -> str:
    """Run the pushed code's own Python (``python -m pipelines.run ...``) in its checkout; its output."""
    try:
        return subprocess.run(
            [sys.executable, *args], cwd=checkout, capture_output=True, text=True, check=True
        ).stdout.strip()
    except subprocess.CalledProcessError as error:
        raise LocalCiError(f"`python {' '.join(args[:3])}` failed: {error.stderr.strip()[-500:]}") from None
