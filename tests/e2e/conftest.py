from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from mlops_local import LocalCloud


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local_cloud:
        yield local_cloud


@pytest.fixture
def register(cloud: LocalCloud) -> Callable[..., str]:
    """Register a model version as a training pipeline would (pending approval); return its ARN."""
    sagemaker = cloud.session.client("sagemaker")
    groups: set[str] = set()

    def register_version(group: str) -> str:
        if group not in groups:
            sagemaker.create_model_package_group(ModelPackageGroupName=group)
            groups.add(group)
        return sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1",
                        "ModelDataUrl": "s3://b/m.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            MetadataProperties={"CommitId": "c0ffee"},
        )["ModelPackageArn"]

    return register_version


@pytest.fixture
def approve(cloud: LocalCloud) -> Callable[[str], None]:
    sagemaker = cloud.session.client("sagemaker")

    def approve_version(arn: str) -> None:
        sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")

    return approve_version


def expected_ci_variables(cloud: LocalCloud, project: str, ci_role_arn: str) -> dict[str, str]:
    """The CI variables every git provider's CI gets for ``project`` (docs/ci.md), as the stack sets them."""
    lifecycle = cloud.functions["ProjectLifecycleFunction"].environment
    return {
        "MLOPS_PROJECT": project,
        "AWS_REGION": cloud.region,
        "AWS_CI_ROLE_ARN": ci_role_arn,
        "SAGEMAKER_PIPELINE_ROLE_ARN": lifecycle["SAGEMAKER_PIPELINE_ROLE_ARN"],
        "ARTIFACT_BUCKET": f"sagemaker-{cloud.region}-{cloud.account_id}",
        "MLOPS_EVENT_BUS": cloud.outputs["EventBusName"],
        "MLOPS_CONFIG_TABLE": cloud.outputs["ConfigTableName"],
    }
