"""The prod push: `Git Branch Updated` on the application bus, naming the merged dev commit."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pipelines.git_events import (
    DETAIL_TYPE,
    branch_updated_entry,
    git_parents,
    main,
    merged_dev_commit,
    put_branch_updated,
)


class RecordingEvents:
    def __init__(self, failed: bool = False) -> None:
        self.entries: list[dict[str, Any]] = []
        self.failed = failed

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries.extend(Entries)
        if self.failed:
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "AccessDenied", "ErrorMessage": "no"}]}
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}


def test_a_merge_commit_names_its_second_parent_as_the_dev_commit() -> None:
    assert merged_dev_commit("m" * 40, ["p" * 40, "d" * 40]) == "d" * 40


def test_a_fast_forward_makes_prod_the_dev_commit_itself() -> None:
    assert merged_dev_commit("d" * 40, ["c" * 40]) == "d" * 40
    assert merged_dev_commit("d" * 40, []) == "d" * 40


def test_the_entry_carries_the_control_planes_detail_fields() -> None:
    entry = branch_updated_entry(
        bus="mlops-bus",
        repository="acme/churn",
        branch="prod",
        commit_id="abc",
        merged_commit_id="def",
        project="churn",
        provider="github",
    )
    assert entry["DetailType"] == DETAIL_TYPE == "Git Branch Updated"
    assert entry["Source"] == "mlops.ci"
    assert entry["EventBusName"] == "mlops-bus"
    assert json.loads(entry["Detail"]) == {
        "repository": "acme/churn",
        "branch": "prod",
        "commit_id": "abc",
        "merged_commit_id": "def",
        "project": "churn",
        "provider": "github",
    }
    bare = branch_updated_entry(
        bus="b", repository="churn", branch="prod", commit_id="a", merged_commit_id="a"
    )
    assert set(json.loads(bare["Detail"])) == {"repository", "branch", "commit_id", "merged_commit_id"}


def test_a_refused_entry_fails_the_job_with_the_reason() -> None:
    with pytest.raises(RuntimeError, match="AccessDenied"):
        put_branch_updated(RecordingEvents(failed=True), {"Detail": "{}"})


def test_main_reads_the_merge_from_git_and_puts_one_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=tmp_path, check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q", "-b", "prod")
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "seed")
    git("checkout", "-q", "-b", "dev")
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "model change")
    dev_head = git("rev-parse", "HEAD")
    git("checkout", "-q", "prod")
    git("-c", "user.name=t", "-c", "user.email=t@e", "merge", "-q", "--no-ff", "-m", "merge dev", "dev")
    merge = git("rev-parse", "HEAD")
    monkeypatch.chdir(tmp_path)
    assert git_parents(merge)[1] == dev_head

    events = RecordingEvents()
    main(
        ["--bus", "mlops-bus", "--repository", "churn", "--branch", "refs/heads/prod", "--commit", merge],
        events,
    )

    (entry,) = events.entries
    assert json.loads(entry["Detail"]) == {
        "repository": "churn",
        "branch": "prod",
        "commit_id": merge,
        "merged_commit_id": dev_head,
    }
