"""The deployer's decisions, against an in-memory SageMaker (no AWS, no moto)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from mlops_core.aws_events import EndpointStatus, ModelApprovalStatus, ModelPackageStateChange
from mlops_core.deployer import EndpointBusyError, ModelDeployer
from mlops_core.sagemaker_adapter import Endpoint, ModelPackage, ProductionVariant
from mlops_core.settings import DeployerSettings

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-dev/{}"
SETTINGS = DeployerSettings.model_validate(
    {
        "STACK_NAME": "mlops",
        "EVENT_BUS_NAME": "bus",
        "CONFIG_TABLE_NAME": "config",
        "IDEMPOTENCY_TABLE_NAME": "idempotency",
        "DEPLOYED_STAGES": "dev",
        "SAGEMAKER_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/sagemaker",
        "DEFAULT_INSTANCE_TYPE": "ml.m5.large",
        "DEFAULT_INSTANCE_COUNT": "1",
    }
)


class FakeSageMaker:
    def __init__(self) -> None:
        self.packages: dict[str, ModelPackage] = {}
        self.endpoints: dict[str, Endpoint] = {}
        self.calls: list[tuple[str, Any]] = []

    def add_version(self, version: int, status: ModelApprovalStatus = ModelApprovalStatus.APPROVED) -> str:
        arn = ARN.format(version)
        self.packages[arn] = ModelPackage(arn=arn, group="churn-dev", version=version, approval_status=status)
        return arn

    def serve(
        self, version: int, status: EndpointStatus = EndpointStatus.IN_SERVICE, managed_by: str = "mlops"
    ):
        self.endpoints["churn-dev"] = Endpoint(
            name="churn-dev",
            arn="arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-dev",
            status=status,
            config_name=f"config-{version}",
            tags={"mlops:managed-by": managed_by},
            model_package_arn=ARN.format(version),
            failure_reason="CapacityError" if status is EndpointStatus.FAILED else None,
        )

    def describe_model_package(self, arn):
        return self.packages.get(arn)

    def describe_endpoint(self, name):
        return self.endpoints.get(name)

    def create_model(self, name, **kwargs):
        self.calls.append(("create_model", name))

    def create_endpoint_config(self, name, **kwargs):
        self.calls.append(("create_endpoint_config", name))

    def create_endpoint(self, name, **kwargs):
        self.calls.append(("create_endpoint", name))

    def update_endpoint(self, name, *, config_name):
        self.calls.append(("update_endpoint", config_name))

    def tag(self, arn, tags):
        self.calls.append(("tag", dict(tags)))


def approval(version: int) -> ModelPackageStateChange:
    return ModelPackageStateChange.model_validate(
        {
            "id": f"event-{version}",
            "detail-type": "SageMaker Model Package State Change",
            "source": "aws.sagemaker",
            "account": "123456789012",
            "time": "2026-11-25T10:00:00Z",
            "region": "us-east-1",
            "detail": {
                "ModelPackageGroupName": "churn-dev",
                "ModelPackageVersion": version,
                "ModelPackageArn": ARN.format(version),
                "ModelApprovalStatus": "Approved",
            },
        }
    )


@pytest.fixture
def sagemaker() -> FakeSageMaker:
    return FakeSageMaker()


def test_first_approval_creates_model_config_and_endpoint(sagemaker):
    sagemaker.add_version(1)
    outcome = ModelDeployer(SETTINGS, sagemaker).on_model_package_state_change(approval(1))
    assert outcome.status == "started"
    assert [call for call, _ in sagemaker.calls] == [
        "create_model",
        "create_endpoint_config",
        "create_endpoint",
    ]


def test_newer_version_updates_and_retags_the_endpoint_without_touching_managed_by(sagemaker):
    sagemaker.add_version(2)
    sagemaker.serve(1)
    outcome = ModelDeployer(SETTINGS, sagemaker).on_model_package_state_change(approval(2))
    assert outcome.status == "started"
    assert [call for call, _ in sagemaker.calls][-2:] == ["update_endpoint", "tag"]
    new_tags = sagemaker.calls[-1][1]
    assert new_tags["mlops:model-package-arn"] == ARN.format(2) and "mlops:managed-by" not in new_tags


@pytest.mark.parametrize(("live", "reason"), [(3, "stale"), (2, "already-deployed")])
def test_live_version_newer_or_equal_is_skipped_even_while_the_endpoint_is_busy(sagemaker, live, reason):
    sagemaker.add_version(2)
    sagemaker.serve(live, EndpointStatus.UPDATING)
    outcome = ModelDeployer(SETTINGS, sagemaker).on_model_package_state_change(approval(2))
    assert (outcome.status, outcome.details["reason"]) == ("skipped", reason)
    assert sagemaker.calls == []


def test_busy_endpoint_raises_so_the_event_is_retried(sagemaker):
    sagemaker.add_version(2)
    sagemaker.serve(1, EndpointStatus.CREATING)
    with pytest.raises(EndpointBusyError, match="churn-dev is Creating"):
        ModelDeployer(SETTINGS, sagemaker).on_model_package_state_change(approval(2))
    assert sagemaker.calls == []


def test_failed_endpoint_is_reported_with_its_reason(sagemaker):
    sagemaker.add_version(2)
    sagemaker.serve(1, EndpointStatus.FAILED)
    outcome = ModelDeployer(SETTINGS, sagemaker).on_model_package_state_change(approval(2))
    assert outcome.status == "failed" and "CapacityError" in outcome.details["reason"]
    assert [type(event).__name__ for event in outcome.events] == ["DeploymentFailed"]


def test_approval_then_rejection_arriving_late_deploys_nothing(sagemaker):
    sagemaker.add_version(1, ModelApprovalStatus.REJECTED)
    outcome = ModelDeployer(SETTINGS, sagemaker).on_model_package_state_change(approval(1))
    assert outcome.status == "ignored" and "now Rejected" in outcome.details["reason"]
    assert sagemaker.calls == []


def test_missing_model_package_fails_with_its_arn(sagemaker):
    outcome = ModelDeployer(SETTINGS, sagemaker).on_model_package_state_change(approval(4))
    assert outcome.status == "failed" and ARN.format(4) in outcome.details["reason"]


def test_rejections_are_not_deployments(sagemaker):
    event = approval(1)
    rejected = event.model_copy(
        update={"detail": replace_detail(event, ModelApprovalStatus=ModelApprovalStatus.REJECTED)}
    )
    outcome = ModelDeployer(SETTINGS, sagemaker).on_model_package_state_change(rejected)
    assert outcome.status == "ignored" and sagemaker.calls == []


def replace_detail(event: ModelPackageStateChange, **changes: Any):
    return event.detail.model_copy(update=changes)


def test_variant_name_is_stable_across_versions():
    first = ProductionVariant(model_name="a", instance_type="ml.m5.large", instance_count=1)
    second = replace(first, model_name="b")
    assert first.to_aws()["VariantName"] == second.to_aws()["VariantName"] == "AllTraffic"
