"""Tell the control plane that ``prod`` moved: put ``Git Branch Updated`` on its application bus.

A merge of ``dev`` into ``prod`` trains nothing. The control plane's artifact copier hears this event
and copies the dev model version that was trained from ``merged_commit_id`` (and tested on the
dev endpoint) into the prod model group, with all its lineage. CodeCommit repositories do not need
this: the control plane sees their ``prod`` branch move natively.

    python -m pipelines.git_events --bus mlops-control-plane --repository acme/churn \
        --project churn --branch prod --commit "$GITHUB_SHA"

The detail is the control plane's ``GitBranchUpdated`` model (``mlops_core.contract.events.ci``), which
forbids unknown fields: keep the names in step with it.

Uses boto3 only (no SageMaker SDK), so the prod job installs almost nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections.abc import Sequence
from typing import Any, Protocol

DETAIL_TYPE = "Git Branch Updated"
SOURCE = "mlops.ci"
"""The event's ``source``: CI of a project repository (GitHub Actions, GitLab CI), not an AWS service."""


class EventsClient(Protocol):
    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]: ...


def merged_dev_commit(head: str, parents: Sequence[str]) -> str:
    """The dev commit a push to prod brought in.

    A merge commit's second parent is the merged ``dev`` head; a fast-forward (one parent, or a
    shallow clone that shows none) makes ``prod`` point at the dev commit itself.
    """
    return parents[1] if len(parents) >= 2 else head


def git_parents(commit: str) -> list[str]:
    """Parents of ``commit`` in the checkout (CI must fetch at least depth 2)."""
    out = subprocess.run(
        ["git", "rev-list", "--parents", "-n", "1", commit], check=True, capture_output=True, text=True
    ).stdout.split()
    return out[1:]


def branch_updated_entry(
    *,
    bus: str,
    repository: str,
    branch: str,
    commit_id: str,
    merged_commit_id: str,
    project: str | None = None,
    provider: str | None = None,
) -> dict[str, Any]:
    detail = {
        "repository": repository,
        "branch": branch,
        "commit_id": commit_id,
        "merged_commit_id": merged_commit_id,
    }
    if project:
        detail["project"] = project
    if provider:
        detail["provider"] = provider
    return {"EventBusName": bus, "Source": SOURCE, "DetailType": DETAIL_TYPE, "Detail": json.dumps(detail)}


def put_branch_updated(client: EventsClient, entry: dict[str, Any]) -> None:
    response = client.put_events(Entries=[entry])
    if response.get("FailedEntryCount"):
        failure = response["Entries"][0]
        raise RuntimeError(
            f"the bus refused {DETAIL_TYPE}: {failure.get('ErrorCode')}: {failure.get('ErrorMessage')} "
            "(does the CI role have events:PutEvents on the control plane's application bus?)"
        )


def main(argv: list[str] | None = None, client: EventsClient | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Put Git Branch Updated on the control plane's application bus."
    )
    parser.add_argument("--bus", required=True, help="name or ARN of the control plane's application bus")
    parser.add_argument(
        "--repository", required=True, help="owner/name or name (the control plane uses the name)"
    )
    parser.add_argument("--project", help="the project, when CI knows it (else found by repository name)")
    parser.add_argument("--provider", help="github or gitlab")
    parser.add_argument("--branch", default="prod")
    parser.add_argument("--commit", required=True, help="the commit prod now points at")
    parser.add_argument("--merged-commit", help="default: read from git (second parent of a merge)")
    parser.add_argument("--dry-run", action="store_true", help="print the entry, put nothing")
    args = parser.parse_args(argv)

    merged = args.merged_commit or merged_dev_commit(args.commit, git_parents(args.commit))
    entry = branch_updated_entry(
        bus=args.bus,
        repository=args.repository,
        branch=args.branch.removeprefix("refs/heads/"),
        commit_id=args.commit,
        merged_commit_id=merged,
        project=args.project,
        provider=args.provider,
    )
    print(json.dumps(entry, indent=2))
    if args.dry_run:
        return
    if client is None:
        import boto3  # noqa: PLC0415

        client = boto3.client("events")
    put_branch_updated(client, entry)
    print(f"{DETAIL_TYPE} put on {args.bus}: promotion of dev commit {merged} starts")


if __name__ == "__main__":
    main()
