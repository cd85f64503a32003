"""The deployer's decisions, against an in-memory SageMaker (no AWS, no moto)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mlops_core.contract.aws_events import EndpointStatus, ModelApprovalStatus
from mlops_core.contract.events.deployment import InServiceCheck, InServiceCheckEvent
from mlops_core.contract.sagemaker_events import (
    EndpointDeploymentStateChange,
    EndpointStateChange,
    ModelPackageStateChange,
)
from mlops_core.contract.sagemaker_resources import (
    Endpoint,
    EndpointBusyError,
    EndpointConfig,
    ManagedResource,
    ModelPackage,
)
from mlops_core.deployment.context import DeployerContext, EndpointNotGoneError
from mlops_core.deployment.deployer import ModelDeployer
from mlops_core.deployment.mlflow_versions import MlflowVersion, MlflowVersionSource
from mlops_core.deployment.registry_versions import RegistryVersion, RegistryVersionSource
from mlops_core.deployment.settings import DeployerSettings
from mlops_core.deployment.versions import StoredDeployment

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-dev/{}"
ENDPOINT_ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-dev"
SETTINGS = DeployerSettings.model_validate(
    {
        "STACK_NAME": "mlops",
        "EVENT_BUS_NAME": "bus",
        "CONFIG_TABLE_NAME": "config",
        "IDEMPOTENCY_TABLE_NAME": "idempotency",
        "DEPLOYED_STAGES": "dev",
        "SAGEMAKER_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/sagemaker",
        "REGISTRY_ACCOUNT_IDS": "123456789012",
        "AWS_REGION": "us-east-1",
        "DEFAULT_INSTANCE_TYPE": "ml.m5.large",
        "DEFAULT_INSTANCE_COUNT": "1",
    }
)


class FakeSageMaker:
    """SageMaker as the deployer sees it. ``search_lags`` makes Search (find_endpoint) answer with an
    older view of the endpoint than DescribeEndpoint, as an index can; ``deletion_lingers`` keeps a
    deleted endpoint ``Deleting`` (AWS's DeleteEndpoint is asynchronous)."""

    def __init__(self) -> None:
        self.packages: dict[str, ModelPackage] = {}
        self.endpoints: dict[str, Endpoint] = {}
        self.configs: dict[str, EndpointConfig] = {}
        self.calls: list[tuple[str, Any]] = []
        self.search_lags: Endpoint | None = None
        self.deletion_lingers = False
        self.update_refused = False
        self.models: dict[str, datetime] = {}

    def add_version(self, version: int, status: ModelApprovalStatus = ModelApprovalStatus.APPROVED) -> str:
        arn = ARN.format(version)
        self.packages[arn] = ModelPackage(arn=arn, group="churn-dev", version=version, approval_status=status)
        return arn

    def set_status(self, arn: str, status: ModelApprovalStatus) -> None:
        package = self.packages[arn]
        self.packages[arn] = ModelPackage(
            arn=arn, group=package.group, version=package.version, approval_status=status
        )

    def serve(
        self, version: int, status: EndpointStatus = EndpointStatus.IN_SERVICE, managed_by: str = "mlops"
    ):
        self.endpoints["churn-dev"] = Endpoint(
            name="churn-dev",
            arn=ENDPOINT_ARN,
            status=status,
            config_name=f"churn-dev-v{version}-abcdef",
            tags={"mlops:managed-by": managed_by},
            model_package_arn=ARN.format(version),
            failure_reason="CapacityError" if status is EndpointStatus.FAILED else None,
            creation_time=ENDPOINT_CREATED,
        )

    def operations(self) -> list[str]:
        return [call for call, _ in self.calls]

    # SageMakerPort
    def describe_model_package(self, arn):
        return self.packages.get(arn)

    def describe_endpoint(self, name):
        return self.endpoints.get(name)

    def find_endpoint(self, name):
        return self.search_lags if self.search_lags is not None else self.endpoints.get(name)

    def describe_endpoint_config(self, name):
        return self.configs.get(name)

    def newest_approved_version_before(self, group, version):
        approved = [
            p.version
            for p in self.packages.values()
            if p.approval_status is ModelApprovalStatus.APPROVED and p.version < version
        ]
        return max(approved, default=None)

    def delete_endpoint(self, name):
        self.calls.append(("delete_endpoint", name))
        if self.deletion_lingers:
            self.endpoints[name] = Endpoint(
                name=name, arn=ENDPOINT_ARN, status=EndpointStatus.DELETING, config_name="x", tags={}
            )
        else:
            self.endpoints.pop(name, None)

    def create_model(self, name, **kwargs):
        self.calls.append(("create_model", name))

    def create_endpoint_config(self, name, *, request, tags):
        self.calls.append(("create_endpoint_config", {"name": name, "request": request, "tags": dict(tags)}))

    def create_endpoint(self, name, **kwargs):
        self.calls.append(("create_endpoint", name))
        return name not in self.endpoints

    def update_endpoint(self, name, *, config_name, deployment_config=None):
        if self.update_refused:
            raise EndpointBusyError("Cannot update in-progress endpoint")
        self.calls.append(("update_endpoint", config_name))

    def tag(self, arn, tags):
        self.calls.append(("tag", dict(tags)))

    def list_tags(self, arn):
        return {}

    def list_endpoint_configs(self, prefix):
        return [ManagedResource(c.name, c.creation_time) for c in self.configs.values() if c.creation_time]

    def list_models(self, prefix):
        return [ManagedResource(name, created) for name, created in self.models.items()]

    def delete_endpoint_config(self, name):
        self.calls.append(("delete_endpoint_config", name))

    def delete_model(self, name):
        self.calls.append(("delete_model", name))


class FakeConfigTable:
    """The config table's port with the adapter's conditions (latest pending version wins)."""

    def __init__(self) -> None:
        self.projects: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, dict[str, Any]] = {}
        self.rollbacks: dict[tuple[str, str, int], str] = {}
        self.failures: dict[tuple[str, str, int], str] = {}

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

    def claim_rollback_announcement(
        self, endpoint_name, endpoint_config_name, *, started, event_id, expires_at
    ):
        key = (endpoint_name, endpoint_config_name, started)
        return self.rollbacks.setdefault(key, event_id) == event_id

    def claim_failure_announcement(
        self, endpoint_name, endpoint_config_name, *, created, event_id, expires_at
    ):
        key = (endpoint_name, endpoint_config_name, created)
        return self.failures.setdefault(key, event_id) == event_id


def approval(version: int, status: str = "Approved") -> ModelPackageStateChange:
    return ModelPackageStateChange.model_validate(
        {
            "id": f"event-{version}-{status}",
            "detail-type": "SageMaker Model Package State Change",
            "source": "aws.sagemaker",
            "account": "123456789012",
            "time": "2026-11-25T10:00:00Z",
            "region": "us-east-1",
            "detail": {
                "ModelPackageGroupName": "churn-dev",
                "ModelPackageVersion": version,
                "ModelPackageArn": ARN.format(version),
                "ModelApprovalStatus": status,
            },
        }
    )


def rejection(version: int) -> ModelPackageStateChange:
    return approval(version, "Rejected")


ENDPOINT_CREATED = datetime(2026, 12, 6, 9, 0, 0, 203000, tzinfo=UTC)  # milliseconds: a float in the event


def endpoint_event(status: str, version: int = 1, reason: str | None = None) -> EndpointStateChange:
    detail: dict[str, Any] = {
        "EndpointName": "churn-dev",
        "EndpointConfigName": f"churn-dev-v{version}-abcdef",
        "EndpointStatus": status,
        "CreationTime": ENDPOINT_CREATED.timestamp() * 1000,  # epoch milliseconds, as AWS's example
        "Tags": {"mlops:managed-by": "mlops"},
    }
    if reason:
        detail["FailureReason"] = reason
    return EndpointStateChange.model_validate(
        {
            "id": f"{status}-{version}",
            "detail-type": "SageMaker Endpoint State Change",
            "source": "aws.sagemaker",
            "account": "123456789012",
            "time": "1732528800000",
            "region": "us-east-1",
            "detail": detail,
        }
    )


def rolling_back(event_id: str, *, started: int = 1732528800000) -> EndpointDeploymentStateChange:
    """SageMaker's notice that it rolls back the update of churn-dev to v2 started at `started`."""
    return EndpointDeploymentStateChange.model_validate(
        {
            "id": event_id,
            "detail-type": "SageMaker Endpoint Deployment State Change",
            "source": "aws.sagemaker",
            "account": "123456789012",
            "time": "2026-11-25T10:00:00Z",
            "region": "us-east-1",
            "detail": {
                "EndpointName": "churn-dev",
                "EndpointConfigName": "churn-dev-v1-abcdef",
                "EndpointStatus": "ROLLING_BACK",
                "Tags": {"mlops:managed-by": "mlops", "mlops:model-package-arn": ARN.format(1)},
                "PendingDeploymentSummary": {
                    "EndpointConfigName": "churn-dev-v2-fedcba",
                    "StartTime": started,
                },
            },
        }
    )


class NoAliases:
    """MLflow's alias state with no alias: these tests deploy registry versions only."""

    def seen(self, model):
        return {}


def model_deployer(sagemaker, table=None) -> ModelDeployer:
    context = DeployerContext(SETTINGS, sagemaker, table)
    return ModelDeployer(
        context, registry=RegistryVersionSource(context), mlflow=MlflowVersionSource(context, NoAliases())
    )


def event_names(outcome) -> list[str]:
    return [type(event).__name__ for event in outcome.events]


@pytest.fixture
def sagemaker() -> FakeSageMaker:
    return FakeSageMaker()


@pytest.fixture
def table() -> FakeConfigTable:
    return FakeConfigTable()


@pytest.fixture
def deployer(sagemaker, table) -> ModelDeployer:
    return model_deployer(sagemaker, table)


def test_first_approval_creates_model_config_and_endpoint(sagemaker):
    sagemaker.add_version(1)
    outcome = model_deployer(sagemaker).on_model_package_state_change(approval(1))
    assert outcome.status == "started"
    assert sagemaker.operations() == ["create_model", "create_endpoint_config", "create_endpoint"]


def test_an_update_tags_only_at_creation_and_marks_the_previous_config_on_the_new_one(sagemaker):
    sagemaker.add_version(2)
    sagemaker.serve(1)
    outcome = model_deployer(sagemaker).on_model_package_state_change(approval(2))
    assert outcome.status == "started"
    assert sagemaker.operations() == ["create_model", "create_endpoint_config", "update_endpoint"]
    config = sagemaker.calls[1][1]
    assert config["tags"]["mlops:previous-endpoint-config"] == "churn-dev-v1-abcdef"
    assert config["tags"]["mlops:model-package-arn"] == ARN.format(2)


def test_the_variant_name_stays_the_same_when_the_compute_changes(sagemaker, table):
    """Blue/green updates need the new config to keep the variant names of the old one."""
    deployer = model_deployer(sagemaker, table)
    sagemaker.add_version(1)
    sagemaker.add_version(2)
    deployer.on_model_package_state_change(approval(1))
    sagemaker.serve(1)
    table.projects["churn"] = {
        "deployment_defaults": {"dev": {"compute": {"kind": "serverless", "memory_size_mb": 4096}}}
    }
    deployer.on_model_package_state_change(approval(2))
    first, second = [
        params["request"] for name, params in sagemaker.calls if name == "create_endpoint_config"
    ]
    assert "InstanceType" in first["ProductionVariants"][0]
    assert "ServerlessConfig" in second["ProductionVariants"][0]
    assert first["ProductionVariants"][0]["VariantName"] == second["ProductionVariants"][0]["VariantName"]


@pytest.mark.parametrize(("live", "reason"), [(3, "stale"), (2, "already-deployed")])
def test_live_version_newer_or_equal_is_skipped_even_while_the_endpoint_is_busy(sagemaker, live, reason):
    sagemaker.add_version(2)
    sagemaker.serve(live, EndpointStatus.UPDATING)
    outcome = model_deployer(sagemaker).on_model_package_state_change(approval(2))
    assert (outcome.status, outcome.details["reason"]) == ("skipped", reason)
    assert sagemaker.calls == []


@pytest.mark.parametrize(
    "status", [EndpointStatus.CREATING, EndpointStatus.UPDATING, EndpointStatus.ROLLING_BACK]
)
def test_busy_endpoint_defers_the_deployment_and_the_newest_pending_version_wins(
    sagemaker, table, deployer, status
):
    for version in (2, 3):
        sagemaker.add_version(version)
    sagemaker.serve(1, status)

    newest = deployer.on_model_package_state_change(approval(3))
    older = deployer.on_model_package_state_change(approval(2))

    assert newest.status == older.status == "deferred"
    assert event_names(newest) == ["DeploymentDeferred"]
    assert not older.events and "already pending" in older.details["reason"]
    assert table.pending["churn-dev"]["model_package_arn"] == ARN.format(3)
    assert sagemaker.calls == []


def test_a_deferral_based_on_a_lagging_view_is_applied_at_once(sagemaker, table, deployer):
    """Search said Updating, but the endpoint is InService already (its IN_SERVICE event may have
    been handled before the deployment was stored): it is deployed now, not left waiting."""
    sagemaker.add_version(2)
    sagemaker.serve(1, EndpointStatus.UPDATING)
    sagemaker.search_lags = sagemaker.endpoints["churn-dev"]
    sagemaker.serve(1)

    outcome = deployer.on_model_package_state_change(approval(2))

    assert outcome.status == "started"
    assert event_names(outcome) == ["DeploymentDeferred", "DeploymentStarted"]
    assert sagemaker.operations()[-1] == "update_endpoint"
    assert table.pending == {}


def test_an_update_refused_as_busy_is_deferred(sagemaker, table, deployer):
    sagemaker.add_version(2)
    sagemaker.serve(1)
    sagemaker.update_refused = True
    sagemaker.serve(1, EndpointStatus.UPDATING)
    sagemaker.search_lags = Endpoint(
        name="churn-dev", arn=ENDPOINT_ARN, status=EndpointStatus.IN_SERVICE,
        config_name="churn-dev-v1-abcdef", tags={"mlops:managed-by": "mlops"}, model_package_arn=ARN.format(1),
    )  # fmt: skip

    outcome = deployer.on_model_package_state_change(approval(2))

    assert (outcome.status, outcome.details["endpoint_status"]) == ("deferred", "Updating")
    assert table.pending["churn-dev"]["model_package_version"] == 2


def test_a_failed_endpoint_is_deleted_and_the_deployment_waits_until_it_is_gone(sagemaker, table, deployer):
    sagemaker.add_version(2)
    sagemaker.serve(1, EndpointStatus.FAILED)
    sagemaker.deletion_lingers = True  # as in AWS: DeleteEndpoint returns while it is Deleting

    deferred = deployer.on_model_package_state_change(approval(2))

    assert (deferred.status, deferred.details["endpoint_status"]) == ("deferred", "Deleting")
    assert event_names(deferred) == ["DeploymentDeferred"]
    assert sagemaker.operations() == ["delete_endpoint"]  # no CreateEndpoint on a name still in use
    assert table.pending["churn-dev"]["model_package_version"] == 2

    # Its DELETING event, while it is still being deleted: Lambda's retries look again later.
    with pytest.raises(EndpointNotGoneError, match="pending version 2"):
        deployer.on_endpoint_state_change(endpoint_event("DELETING"))

    del sagemaker.endpoints["churn-dev"]  # gone
    created = deployer.on_endpoint_state_change(endpoint_event("DELETING"))
    assert (created.status, created.details["action"]) == ("started", "create")
    assert sagemaker.operations()[-1] == "create_endpoint"
    assert table.pending == {}


def test_a_failed_endpoint_already_gone_is_created_again_at_once(sagemaker, table, deployer):
    sagemaker.add_version(2)
    sagemaker.serve(1, EndpointStatus.FAILED)
    outcome = deployer.on_model_package_state_change(approval(2))
    assert outcome.status == "started" and outcome.details["action"] == "create"
    assert event_names(outcome) == ["DeploymentDeferred", "DeploymentStarted"]
    assert sagemaker.operations() == [
        "delete_endpoint",
        "create_model",
        "create_endpoint_config",
        "create_endpoint",
    ]


def test_a_deployment_pending_when_the_endpoint_fails_is_not_lost(sagemaker, table, deployer):
    """Deferred while Creating; the creation ends FAILED: the endpoint is recreated with it."""
    sagemaker.add_version(2)
    sagemaker.serve(1, EndpointStatus.CREATING)
    assert deployer.on_model_package_state_change(approval(2)).status == "deferred"
    sagemaker.serve(1, EndpointStatus.FAILED)
    sagemaker.deletion_lingers = True

    failed = deployer.on_endpoint_state_change(endpoint_event("FAILED", reason="CapacityError"))

    assert failed.status == "failed" and event_names(failed) == ["DeploymentFailed"]
    assert "CapacityError" in failed.details["reason"] and "pending version 2" in failed.details["reason"]
    assert sagemaker.operations() == ["delete_endpoint"]
    assert table.pending["churn-dev"]["model_package_version"] == 2

    del sagemaker.endpoints["churn-dev"]
    created = deployer.on_endpoint_state_change(endpoint_event("DELETING"))
    assert created.status == "started" and sagemaker.operations()[-1] == "create_endpoint"


def test_a_failed_endpoint_with_nothing_pending_is_kept_for_diagnosis(sagemaker, table, deployer):
    sagemaker.serve(1, EndpointStatus.FAILED)
    outcome = deployer.on_endpoint_state_change(endpoint_event("FAILED", reason="CannotStartContainerError"))
    assert outcome.status == "failed" and "the next approval recreates it" in outcome.details["reason"]
    assert sagemaker.calls == []


def test_an_endpoint_someone_else_is_deleting_keeps_the_deployment_and_retries(sagemaker, table, deployer):
    sagemaker.add_version(2)
    sagemaker.serve(1, EndpointStatus.DELETING)
    with pytest.raises(EndpointNotGoneError, match="stored as its pending deployment"):
        deployer.on_model_package_state_change(approval(2))
    assert table.pending["churn-dev"]["model_package_version"] == 2
    assert sagemaker.calls == []

    del sagemaker.endpoints["churn-dev"]
    retried = deployer.on_model_package_state_change(approval(2))
    assert retried.status == "started" and retried.details["action"] == "create"


def test_update_rollback_failed_endpoints_are_updated_not_deleted(sagemaker, deployer):
    sagemaker.add_version(2)
    sagemaker.serve(1, EndpointStatus.UPDATE_ROLLBACK_FAILED)
    outcome = deployer.on_model_package_state_change(approval(2))
    assert outcome.status == "started" and outcome.details["action"] == "update"
    assert "delete_endpoint" not in sagemaker.operations()


def test_an_out_of_service_endpoint_is_refused_and_left_alone(sagemaker, deployer):
    sagemaker.add_version(2)
    sagemaker.serve(1, EndpointStatus.OUT_OF_SERVICE)
    outcome = deployer.on_model_package_state_change(approval(2))
    assert outcome.status == "failed" and "is OutOfService" in outcome.details["reason"]
    assert event_names(outcome) == ["DeploymentFailed"]
    assert sagemaker.calls == []


def test_create_endpoint_finding_a_busy_endpoint_defers_instead_of_claiming_a_start(
    sagemaker, table, deployer
):
    """Search had not seen the endpoint yet; CreateEndpoint says it exists: look at it."""
    sagemaker.add_version(2)
    sagemaker.serve(1, EndpointStatus.CREATING)
    sagemaker.find_endpoint = lambda name: None  # type: ignore[method-assign]

    outcome = deployer.on_model_package_state_change(approval(2))

    assert outcome.status == "deferred" and event_names(outcome) == ["DeploymentDeferred"]
    assert table.pending["churn-dev"]["model_package_version"] == 2


def test_approval_then_rejection_arriving_late_deploys_nothing(sagemaker):
    sagemaker.add_version(1, ModelApprovalStatus.REJECTED)
    outcome = model_deployer(sagemaker).on_model_package_state_change(approval(1))
    assert outcome.status == "ignored" and "now Rejected" in outcome.details["reason"]
    assert sagemaker.calls == []


def test_missing_model_package_fails_with_its_arn(sagemaker):
    outcome = model_deployer(sagemaker).on_model_package_state_change(approval(4))
    assert outcome.status == "failed" and ARN.format(4) in outcome.details["reason"]


@pytest.mark.parametrize("live", [None, 1, 3])
def test_rejecting_a_version_that_is_not_live_changes_nothing(sagemaker, deployer, live):
    for version in (1, 2, 3):
        sagemaker.add_version(version)
    sagemaker.set_status(ARN.format(2), ModelApprovalStatus.REJECTED)
    if live is not None:
        sagemaker.serve(live)
    outcome = deployer.on_model_package_state_change(rejection(2))
    assert outcome.status == "ignored" and "not live" in outcome.details["reason"]
    assert sagemaker.calls == [] and not outcome.events


def test_a_rejection_overtaken_by_a_new_approval_of_the_same_version_changes_nothing(sagemaker, deployer):
    sagemaker.add_version(1)
    sagemaker.add_version(2)  # rejected, then approved again before the rejection event was handled
    sagemaker.serve(2)
    outcome = deployer.on_model_package_state_change(rejection(2))
    assert outcome.status == "ignored" and "Approved again" in outcome.details["reason"]
    assert sagemaker.calls == []


def test_rejecting_the_live_version_without_an_older_approved_one_fails_and_changes_nothing(
    sagemaker, deployer
):
    sagemaker.add_version(1, ModelApprovalStatus.REJECTED)
    sagemaker.serve(1)
    outcome = deployer.on_model_package_state_change(rejection(1))
    assert outcome.status == "failed" and "no older approved version" in outcome.details["reason"]
    assert sagemaker.calls == []


def test_a_rollback_that_finds_the_endpoint_busy_is_deferred_and_applied_as_a_rollback(
    sagemaker, table, deployer
):
    sagemaker.add_version(1)
    sagemaker.add_version(2, ModelApprovalStatus.REJECTED)
    sagemaker.serve(2, EndpointStatus.UPDATING)

    deferred = deployer.on_model_package_state_change(rejection(2))
    assert deferred.status == "deferred"
    assert table.pending["churn-dev"]["rolled_back_model_package_arn"] == ARN.format(2)

    sagemaker.serve(2)  # back in service, still on the rejected version
    applied = deployer.on_endpoint_state_change(endpoint_event("IN_SERVICE", 2))

    assert applied.status == "rolled-back"
    [event] = applied.events
    assert type(event).__name__ == "DeploymentRolledBack" and event.model_package_arn == ARN.format(1)
    assert sagemaker.operations()[-1] == "update_endpoint"
    assert "churn-dev" not in table.pending


def test_a_deferred_rollback_of_a_version_no_longer_live_does_not_undo_the_newer_one(
    sagemaker, table, deployer
):
    """v2 is rejected while the endpoint is updating v2 -> v3: once v3 is in service, the deferred
    rollback is moot (v3 stays), it is dropped, and housekeeping runs."""
    sagemaker.add_version(1)
    sagemaker.add_version(2, ModelApprovalStatus.REJECTED)
    sagemaker.add_version(3)
    sagemaker.serve(2, EndpointStatus.UPDATING)  # still on v2's config while the update runs
    assert deployer.on_model_package_state_change(rejection(2)).status == "deferred"

    sagemaker.serve(3)  # the update to v3 finished
    outcome = deployer.on_endpoint_state_change(endpoint_event("IN_SERVICE", 3))

    assert "update_endpoint" not in sagemaker.operations()
    assert outcome.status != "rolled-back" and not outcome.events
    assert outcome.details["pending"]["status"] == "ignored"
    assert "not live" in outcome.details["pending"]["applied"][0]["reason"]
    assert table.pending == {}


def test_a_pending_approval_rejected_meanwhile_is_dropped(sagemaker, table, deployer):
    sagemaker.add_version(2)
    sagemaker.serve(1, EndpointStatus.UPDATING)
    deployer.on_model_package_state_change(approval(2))
    sagemaker.set_status(ARN.format(2), ModelApprovalStatus.REJECTED)
    sagemaker.serve(1)

    outcome = deployer.on_endpoint_state_change(endpoint_event("IN_SERVICE", 1))

    assert "update_endpoint" not in sagemaker.operations()
    assert outcome.details["pending"]["status"] == "ignored" and table.pending == {}


def test_housekeeping_waits_for_an_endpoint_in_service(sagemaker, deployer):
    sagemaker.serve(1, EndpointStatus.UPDATING)  # the IN_SERVICE event is stale: it is updating again
    outcome = deployer.tidy_up(deployer._deployed_stage("churn-dev", "endpoint"))  # type: ignore[arg-type]
    assert outcome.status == "ignored" and "waits for InService" in outcome.details["reason"]


def test_housekeeping_keeps_current_and_previous_and_models_still_referenced(sagemaker, table, deployer):
    now = datetime(2026, 11, 25, tzinfo=UTC)
    sagemaker.serve(3)

    def config(version: int, models: list[str], age: int) -> None:
        name = f"churn-dev-v{version}-abcdef"
        sagemaker.configs[name] = EndpointConfig(
            name=name,
            production_variants=[{"VariantName": "AllTraffic", "ModelName": m} for m in models],
            arn=f"arn:config/{name}",
            creation_time=now - timedelta(hours=age),
        )

    config(1, ["churn-dev-v1-111111"], 3)
    config(2, ["churn-dev-v2-222222"], 2)
    config(3, ["churn-dev-v3-333333"], 1)
    ages = {
        "churn-dev-v1-111111": 4,
        "churn-dev-v2-222222": 3,
        "churn-dev-v3-333333": 2,
        "churn-dev-v4-444444": 0,
    }
    sagemaker.models = {name: now - timedelta(hours=age) for name, age in ages.items()}

    outcome = deployer.tidy_up(deployer._deployed_stage("churn-dev", "endpoint"))  # type: ignore[arg-type]

    # v2 is the previous config (newest older one); v1 and its model go; v4's model is newer than
    # the current config (a deployment in flight) and stays.
    assert outcome.details["kept_endpoint_configs"] == ["churn-dev-v2-abcdef", "churn-dev-v3-abcdef"]
    assert sagemaker.calls == [
        ("delete_endpoint_config", "churn-dev-v1-abcdef"),
        ("delete_model", "churn-dev-v1-111111"),
    ]


def test_one_rollback_is_announced_once_whatever_the_ids_of_its_notices(sagemaker, table, deployer):
    first = deployer.on_endpoint_deployment_state_change(rolling_back("notice-1"))
    again = deployer.on_endpoint_deployment_state_change(rolling_back("notice-2"))  # a new id, same rollback

    assert (first.status, event_names(first)) == ("rolled-back", ["DeploymentRolledBack"])
    [announced] = first.events
    assert (announced.rolled_back_model_package_arn, announced.model_package_arn) == (
        ARN.format(2),
        ARN.format(1),
    )
    assert (again.status, list(again.events)) == ("ignored", [])
    assert "announced already" in again.details["reason"]
    assert list(table.rollbacks) == [("churn-dev", "churn-dev-v2-fedcba", 1732528800000)]
    # Lambda retrying the delivery that holds the claim (its events failed to publish) announces it.
    assert deployer.on_endpoint_deployment_state_change(rolling_back("notice-1")).status == "rolled-back"
    # Another rollback of the same config (the version approved again, rolled out again) is news.
    later = deployer.on_endpoint_deployment_state_change(rolling_back("notice-3", started=1732532400000))
    assert event_names(later) == ["DeploymentRolledBack"]


def test_each_version_source_rebuilds_only_the_pending_records_it_stored(sagemaker):
    """The deployer asks every source to rebuild a PENDING record: exactly one claims it, whatever the order."""
    context = DeployerContext(SETTINGS, sagemaker)
    registry, mlflow = RegistryVersionSource(context), MlflowVersionSource(context, NoAliases())
    approved = RegistryVersion.parse(ARN.format(2))
    moved = MlflowVersion("churn", "dev", 4, "s3://bucket/churn/4")
    records = {
        "registry approval": approved.pending_record(),
        "registry rollback": {**approved.pending_record(), "rolled_back_model_package_arn": ARN.format(3)},
        "mlflow alias": moved.pending_record(),
        "mlflow removal": {**moved.pending_record(), "rolled_back_model_package_arn": "models:/churn/5"},
    }

    rebuilt = {name: (registry.rebuild(record), mlflow.rebuild(record)) for name, record in records.items()}

    assert rebuilt["registry approval"] == (StoredDeployment(approved, registry), None)
    assert rebuilt["registry rollback"] == (
        StoredDeployment(RegistryVersion.parse(ARN.format(3)), registry, undo=True),
        None,
    )
    assert rebuilt["mlflow alias"] == (None, StoredDeployment(moved, mlflow))
    assert rebuilt["mlflow removal"] == (
        None,
        StoredDeployment(MlflowVersion("churn", "dev", 5), mlflow, undo=True),
    )


# ------------------------------------------------------------------------------------- in-service checks


class FakeChecks:
    """The in-service checks' schedules: what was scheduled, each name once (as Scheduler's names)."""

    def __init__(self) -> None:
        self.scheduled: list[tuple[InServiceCheck, int]] = []

    def schedule(self, check: InServiceCheck, *, in_minutes: int) -> bool:
        if any(seen == check for seen, _ in self.scheduled):
            return False
        self.scheduled.append((check, in_minutes))
        return True


def checked_deployer(
    sagemaker: FakeSageMaker, checks: FakeChecks, table: FakeConfigTable | None = None
) -> ModelDeployer:
    context = DeployerContext(SETTINGS, sagemaker, config_table=table, in_service_checks=checks)
    return ModelDeployer(
        context, registry=RegistryVersionSource(context), mlflow=MlflowVersionSource(context, NoAliases())
    )


def check_event(config_name: str, attempt: int = 1) -> InServiceCheckEvent:
    return InServiceCheckEvent.model_validate(
        {
            "id": "check-1",
            "source": "mlops.model-deployer",
            "detail-type": "Endpoint In-Service Check",
            "account": "123456789012",
            "time": "2026-12-06T09:00:00Z",
            "region": "us-east-1",
            "detail": {
                "project": "churn",
                "stage": "dev",
                "endpoint_name": "churn-dev",
                "endpoint_config_name": config_name,
                "attempt": attempt,
            },
        }
    )


def test_every_endpoint_change_schedules_its_check_and_an_unchanged_endpoint_none(sagemaker):
    checks = FakeChecks()
    sagemaker.add_version(1)
    deployer = checked_deployer(sagemaker, checks)

    deployer.on_model_package_state_change(approval(1))
    [config_name] = [args["name"] for call, args in sagemaker.calls if call == "create_endpoint_config"]
    sagemaker.serve(1)  # in service with version 1: approving it again changes nothing
    assert deployer.on_model_package_state_change(approval(1)).status == "skipped"

    [(check, minutes)] = checks.scheduled
    assert (check.endpoint_name, check.endpoint_config_name, check.attempt) == ("churn-dev", config_name, 1)
    assert minutes == 20


@pytest.mark.parametrize(
    ("status", "attempt", "outcome", "next_attempt"),
    [
        ("Updating", 1, "check-rescheduled", 2),
        ("Creating", 5, "check-rescheduled", 6),
        ("Updating", 6, "checks-exhausted", None),
        ("OutOfService", 1, "ignored", None),
    ],
)
def test_a_check_finding_the_endpoint_not_in_service_reschedules_while_it_changes_at_most_six_times(
    sagemaker, status, attempt, outcome, next_attempt
):
    checks = FakeChecks()
    sagemaker.serve(1)
    config_name = sagemaker.endpoints["churn-dev"].config_name
    sagemaker.endpoints["churn-dev"] = replace(
        sagemaker.endpoints["churn-dev"], status=EndpointStatus(status)
    )

    result = checked_deployer(sagemaker, checks).on_in_service_check(check_event(config_name, attempt))

    assert result.status == outcome
    assert [check.attempt for check, _ in checks.scheduled] == ([next_attempt] if next_attempt else [])
    assert sagemaker.operations() == []


@pytest.mark.parametrize("check_first", [False, True])
def test_an_endpoint_failure_is_announced_once_by_its_event_its_redelivery_or_its_check(
    sagemaker, table, check_first
):
    sagemaker.serve(1, EndpointStatus.FAILED)
    deployer = checked_deployer(sagemaker, FakeChecks(), table)
    failed, check = endpoint_event("FAILED", reason="CapacityError"), check_event("churn-dev-v1-abcdef")
    redelivered = failed.model_copy(update={"id": "FAILED-1-again"})

    outcomes = [
        *(
            [deployer.on_in_service_check(check), deployer.on_endpoint_state_change(failed)]
            if check_first
            else [deployer.on_endpoint_state_change(failed), deployer.on_in_service_check(check)]
        ),
        deployer.on_endpoint_state_change(redelivered),
    ]

    assert [outcome.status for outcome in outcomes] == ["failed", "ignored", "ignored"]
    [announced] = outcomes[0].events
    assert announced.reason.startswith("endpoint churn-dev failed: CapacityError")
    # the one that announced it, retried by Lambda (same id), takes its claim again
    retried = (
        deployer.on_in_service_check(check) if check_first else deployer.on_endpoint_state_change(failed)
    )
    assert retried.status == "failed"


def test_a_check_of_an_endpoint_gone_or_not_this_stacks_changes_nothing(sagemaker):
    checks = FakeChecks()
    deployer = checked_deployer(sagemaker, checks)
    assert deployer.on_in_service_check(check_event("churn-dev-v1-abc")).status == "ignored"  # gone
    sagemaker.serve(1)
    sagemaker.endpoints["churn-dev"] = replace(sagemaker.endpoints["churn-dev"], tags={})
    assert deployer.on_in_service_check(check_event("churn-dev-v1-abc")).status == "ignored"
    assert checks.scheduled == [] and sagemaker.operations() == []
