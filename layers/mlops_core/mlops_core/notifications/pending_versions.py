"""A model version waiting for approval, announced to its project with Approve and Reject buttons.

SageMaker emits ``SageMaker Model Package State Change`` when a version is registered as
``PendingManualApproval`` (a promoted version the artifact copier registered, or any version a
pipeline registers pending) and again whenever it changes while pending. The notifier's rule matches
pending versions of the ``{project}-{stage}`` groups; here the group is read back into its project and
stage, the project must have a record, and the version is announced once (a claim in the config table:
``APPROVAL#{arn}``, so a redelivery with a new id or a metadata change while pending sends nothing
more). The detail the renderer gets carries:

- ``project``, ``stage``, ``model_package_arn`` (so the message goes to the project's channel);
- ``lineage``: commit, branch, dataset and its version, and every ``mlops:metric-*`` the pipeline
  recorded (``MetadataProperties`` and ``CustomerMetadataProperties``);
- ``test_evidence``: the dev version it was promoted from and how its integration tests went
  (``mlops:source-*``), or the version's own test outcome;
- ``approvers``: the stage's Slack approvers of the project record; the buttons are shown only when
  the stage has some (``slack_approvals``: the buttons' action ids and value).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_core.contract import tags
from mlops_core.contract.aws_events import ModelApprovalStatus
from mlops_core.contract.naming import parse_stage_resource
from mlops_core.notifications.ports import AnnouncementClaims, ProjectRecords
from mlops_core.observability import logger

MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"


def _lineage(detail: Mapping[str, Any]) -> dict[str, str]:
    metadata = detail.get("CustomerMetadataProperties") or {}
    properties = detail.get("MetadataProperties") or {}
    if not isinstance(metadata, Mapping) or not isinstance(properties, Mapping):
        return {}
    lineage = {
        "commit": properties.get("CommitId") or metadata.get(tags.METADATA_COMMIT_ID),
        "repository": properties.get("Repository"),
        "branch": metadata.get(tags.METADATA_BRANCH),
        "dataset": metadata.get(tags.METADATA_DATASET),
        "dataset_version": metadata.get(tags.METADATA_DATASET_VERSION),
    }
    lineage.update(
        {
            "metric " + key.removeprefix(tags.METADATA_METRIC_PREFIX): value
            for key, value in sorted(metadata.items())
            if str(key).startswith(tags.METADATA_METRIC_PREFIX)
        }
    )
    return {key: str(value) for key, value in lineage.items() if value not in (None, "")}


def _test_evidence(detail: Mapping[str, Any]) -> dict[str, str]:
    metadata = detail.get("CustomerMetadataProperties") or {}
    if not isinstance(metadata, Mapping):
        return {}
    if metadata.get(tags.SOURCE_MODEL_PACKAGE_ARN):
        evidence = {
            "promoted_from": metadata.get(tags.SOURCE_MODEL_PACKAGE_ARN),
            "outcome": metadata.get(tags.SOURCE_TEST_OUTCOME),
            "run_id": metadata.get(tags.SOURCE_TEST_RUN_ID),
        }
    else:
        evidence = {
            "outcome": metadata.get(tags.METADATA_OUTCOME),
            "run_id": metadata.get(tags.METADATA_RUN_ID),
        }
    return {key: str(value) for key, value in evidence.items() if value}


def pending_version_announcement(
    detail: Mapping[str, Any], *, event_id: str, projects: ProjectRecords, claims: AnnouncementClaims
) -> dict[str, Any] | None:
    """The detail to announce, with the project, stage, lineage, test evidence and approvers; None when
    the version is not pending, not a project's, or announced already (logged, nothing sent)."""
    arn = str(detail.get("ModelPackageArn", ""))
    target = parse_stage_resource(str(detail.get("ModelPackageGroupName", "")))
    record = projects.get_project(target.project) if target else None
    if detail.get("ModelApprovalStatus") != ModelApprovalStatus.PENDING_MANUAL_APPROVAL:
        return None
    if target is None or record is None:
        logger.info("A pending version of no project's group: not announced", extra={"arn": arn})
        return None
    if not claims.claim_approval_announcement(arn, event_id=event_id):
        logger.info("The pending version is announced already", extra={"arn": arn})
        return None
    approvers = record.get("slack_approvers") or {}
    stage_approvers = approvers.get(target.stage.value) if isinstance(approvers, Mapping) else None
    return {
        **detail,
        "project": target.project,
        "stage": target.stage.value,
        "model_package_arn": arn,
        "lineage": _lineage(detail),
        "test_evidence": _test_evidence(detail),
        "approvers": [str(member) for member in stage_approvers or ()],
    }
