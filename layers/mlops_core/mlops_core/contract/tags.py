"""The tags on everything the control plane creates (docs/architecture.md, "Tags").

``mlops:managed-by`` (the stack name) is what the IAM policies and the reaper key on: the control
plane changes only what carries its own stack's tag. ``mlops:keep-until`` is set by people.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mlops_core.contract.topology import Stage

PROJECT = "mlops:project"
STAGE = "mlops:stage"
MANAGED_BY = "mlops:managed-by"
MODEL_PACKAGE_ARN = "mlops:model-package-arn"
MLFLOW_MODEL_VERSION = "mlops:mlflow-model-version"
"""On everything deployed from MLflow: ``models:/{model}/{version}`` (where registry deployments
carry ``mlops:model-package-arn``)."""
COMMIT_ID = "mlops:commit-id"
KEEP_UNTIL = "mlops:keep-until"
INTEGRATION_TEST_RUN = "mlops:integration-test-run"
"""On a transform job the endpoint tester starts to test a batch stage: the run's id."""

# A model version's integration test record (``CustomerMetadataProperties``, written by the endpoint
# tester, read by the artifact copier): here, not in the tester, so the copier need not import it.
METADATA_OUTCOME = "mlops:integration-tests"
METADATA_RUN_ID = "mlops:integration-tests-run-id"
METADATA_TIME = "mlops:integration-tests-time"
# Lineage a promoted version carries besides its source's (written by the artifact copier, read by the
# Slack notifier's announcement of a pending version): where it came from and how the source was tested.
SOURCE_MODEL_PACKAGE_ARN = "mlops:source-model-package-arn"
SOURCE_TEST_OUTCOME = "mlops:source-integration-tests"
SOURCE_TEST_RUN_ID = "mlops:source-test-run-id"
# Lineage the seed code's pipeline records on every version (seed-code/pipelines/pipeline.py).
METADATA_COMMIT_ID = "mlops:commit-id"
METADATA_BRANCH = "mlops:branch"
METADATA_DATASET = "mlops:dataset"
METADATA_DATASET_VERSION = "mlops:dataset-version"
METADATA_METRIC_PREFIX = "mlops:metric-"


def resource_tags(
    *,
    project: str,
    stage: Stage,
    managed_by: str,
    model_package_arn: str | None = None,
    commit_id: str | None = None,
) -> dict[str, str]:
    """The contract's tags for a resource of one project's stage; optional ones only when known."""
    tags = {PROJECT: project, STAGE: stage.value, MANAGED_BY: managed_by}
    if model_package_arn:
        tags[MODEL_PACKAGE_ARN] = model_package_arn
    if commit_id:
        tags[COMMIT_ID] = commit_id
    return tags


def to_aws(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """``{"k": "v"}`` → ``[{"Key": "k", "Value": "v"}]``, the shape SageMaker's APIs take."""
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def from_aws(tags: Iterable[Mapping[str, str]]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tags}
