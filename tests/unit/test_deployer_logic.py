"""The deployer's decisions, against an in-memory SageMaker (no AWS, no moto)."""

from __future__ import annotations

from typing import Any

import pytest
from mlops_core import rollout
from mlops_core.aws_events import (
    EndpointStateChange,
    EndpointStatus,
    ModelApprovalStatus,
    ModelPackageStateChange,
)
from mlops_core.deployer import ModelDeployer
from mlops_core.deployment_settings import InstanceCompute
from mlops_core.sagemaker_adapter import Endpoint, ModelPackage
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
            config_name=f"churn-dev-v{version}-abcdef",
            tags={"mlops:managed-by": managed_by},
            model_package_arn=ARN.format(version),
            failure_reason="CapacityError" if status is EndpointStatus.FAILED else None,
        )

    def describe_model_package(self, arn):
        return self.packages.get(arn)

    def describe_endpoint(self, name):
        return self.endpoints.get(name)

    def describe_endpoint_config(self, name):
        return None

    def list_approved_versions(self, group):
        return sorted(
            (p.version for p in self.packages.values() if p.approval_status is ModelApprovalStatus.APPROVED),
            reverse=True,
        )

    def delete_endpoint(self, name):
        self.calls.append(("delete_endpoint", name))
        self.endpoints.pop(name, None)

    def create_model(self, name, **kwargs):
        self.calls.append(("create_model", name))

    def create_endpoint_config(self, name, **kwargs):
        self.calls.append(("create_endpoint_config", name))

    def create_endpoint(self, name, **kwargs):
        self.calls.append(("create_endpoint", name))

    def update_endpoint(self, name, *, config_name, deployment_config=None):
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


class FakeConfigTable:
    """The config table's port with the adapter's conditions (latest pending version wins)."""

    def __init__(self) -> None:
        self.projects: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, dict[str, Any]] = {}

    def get_project(self, project):
        return self.projects.get(project)

    def get_pending_deployment(self, endpoint_name):
        return self.pending.get(endpoint_name)

    def put_pending_deployment(self, endpoint_name, deployment, *, version):
        stored = self.pending.get(endpoint_name)
        if stored is not None and stored["model_package_version"] >= version:
            return False
        self.pending[endpoint_name] = {**deployment, "model_package_version": version}
        return True

    def delete_pending_deployment(self, endpoint_name, *, version):
        if self.pending.get(endpoint_name, {}).get("model_package_version") == version:
            del self.pending[endpoint_name]


@pytest.mark.parametrize(
    "status", [EndpointStatus.CREATING, EndpointStatus.UPDATING, EndpointStatus.ROLLING_BACK]
)
def test_busy_endpoint_defers_the_deployment_and_the_newest_pending_version_wins(sagemaker, status):
    table = FakeConfigTable()
    deployer = ModelDeployer(SETTINGS, sagemaker, table)
    for version in (2, 3):
        sagemaker.add_version(version)
    sagemaker.serve(1, status)

    newest = deployer.on_model_package_state_change(approval(3))
    older = deployer.on_model_package_state_change(approval(2))

    assert newest.status == older.status == "deferred"
    assert [type(event).__name__ for event in newest.events] == ["DeploymentDeferred"]
    assert not older.events and "already pending" in older.details["reason"]
    assert table.pending["churn-dev"]["model_package_arn"] == ARN.format(3)
    assert sagemaker.calls == []


def test_failed_endpoint_is_deleted_and_created_again_by_the_next_approval(sagemaker):
    sagemaker.add_version(2)
    sagemaker.serve(1, EndpointStatus.FAILED)
    outcome = ModelDeployer(SETTINGS, sagemaker, FakeConfigTable()).on_model_package_state_change(approval(2))
    assert outcome.status == "started" and outcome.details["action"] == "create"
    assert [call for call, _ in sagemaker.calls] == [
        "delete_endpoint",
        "create_model",
        "create_endpoint_config",
        "create_endpoint",
    ]


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
    compute = InstanceCompute(instance_type="ml.m5.large", instance_count=1)
    first = rollout.production_variant("a", compute)
    second = rollout.production_variant("b", compute.model_copy(update={"instance_count": 2}))
    assert first["VariantName"] == second["VariantName"] == "AllTraffic"


def rejection(version: int) -> ModelPackageStateChange:
    event = approval(version)
    return event.model_copy(
        update={"detail": replace_detail(event, ModelApprovalStatus=ModelApprovalStatus.REJECTED)}
    )


def in_service(version: int) -> EndpointStateChange:
    return EndpointStateChange.model_validate(
        {
            "id": f"in-service-{version}",
            "detail-type": "SageMaker Endpoint State Change",
            "source": "aws.sagemaker",
            "account": "123456789012",
            "time": "1732528800000",
            "region": "us-east-1",
            "detail": {
                "EndpointName": "churn-dev",
                "EndpointConfigName": f"churn-dev-v{version}-abcdef",
                "EndpointStatus": "IN_SERVICE",
                "Tags": {"mlops:managed-by": "mlops"},
            },
        }
    )


def test_rejecting_the_live_version_without_an_older_approved_one_fails_and_changes_nothing(sagemaker):
    sagemaker.add_version(1, ModelApprovalStatus.REJECTED)
    sagemaker.serve(1)
    outcome = ModelDeployer(SETTINGS, sagemaker, FakeConfigTable()).on_model_package_state_change(
        rejection(1)
    )
    assert outcome.status == "failed" and "no older approved version" in outcome.details["reason"]
    assert sagemaker.calls == []


def test_a_rollback_that_finds_the_endpoint_busy_is_deferred_and_applied_as_a_rollback(sagemaker):
    table = FakeConfigTable()
    deployer = ModelDeployer(SETTINGS, sagemaker, table)
    sagemaker.add_version(1)
    sagemaker.add_version(2, ModelApprovalStatus.REJECTED)
    sagemaker.serve(2, EndpointStatus.UPDATING)

    deferred = deployer.on_model_package_state_change(rejection(2))
    assert deferred.status == "deferred"
    assert table.pending["churn-dev"]["rolled_back_model_package_arn"] == ARN.format(2)

    sagemaker.serve(2)  # back in service, still on the rejected version
    applied = deployer.on_endpoint_state_change(in_service(2))

    assert applied.status == "rolled-back"
    [event] = applied.events
    assert type(event).__name__ == "DeploymentRolledBack" and event.model_package_arn == ARN.format(1)
    assert [call for call, _ in sagemaker.calls][-2:] == ["update_endpoint", "tag"]
    assert "churn-dev" not in table.pending
