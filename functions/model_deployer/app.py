"""ModelDeployerFunction: deploys approved model versions (registry approvals and MLflow alias changes),
applies pending deployments, rolls back."""

from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.adapters.cloudwatch import CloudWatchAlarms
from mlops_core.adapters.config_table import ConfigTable
from mlops_core.adapters.endpoint_scaling import EndpointScaling
from mlops_core.adapters.mlflow_alias_state import SeenAliasVersions
from mlops_core.adapters.model_monitor import SageMakerMonitoring
from mlops_core.adapters.sagemaker import SageMakerAdapter
from mlops_core.adapters.scheduler import SchedulerBatchSchedules, SchedulerInServiceChecks
from mlops_core.contract.events.deployment import InServiceCheckEvent
from mlops_core.contract.sagemaker_events import (
    EndpointDeploymentStateChange,
    EndpointStateChange,
    ModelPackageStateChange,
)
from mlops_core.deployment.context import DeployerContext
from mlops_core.deployment.deployer import ModelDeployer
from mlops_core.deployment.mlflow_versions import MlflowAliasChangedEvent, MlflowVersionSource
from mlops_core.deployment.registry_versions import RegistryVersionSource
from mlops_core.deployment.settings import DeployerSettings
from mlops_core.handlers.event_function import EventFunction, Route


def build(settings: DeployerSettings, clients: ClientFactory) -> ModelDeployer:
    context = DeployerContext(
        settings,
        SageMakerAdapter(clients("sagemaker")),
        ConfigTable(clients("dynamodb"), settings.config_table_name),
        CloudWatchAlarms(clients("cloudwatch")),
        EndpointScaling(clients("application-autoscaling")),
        SageMakerMonitoring(clients("sagemaker")),
        SchedulerBatchSchedules(
            clients("scheduler"),
            group_name=settings.batch_schedule_group_name,
            role_arn=settings.batch_scheduler_role_arn,
        )
        if settings.batch_schedule_group_name
        else None,
        in_service_checks=SchedulerInServiceChecks(
            clients("scheduler"),
            group_name=settings.in_service_check_schedule_group_name,
            role_arn=settings.in_service_check_role_arn,
            event_bus_arn=settings.event_bus_arn,
        )
        if settings.in_service_check_schedule_group_name
        else None,
    )
    return ModelDeployer(
        context,
        registry=RegistryVersionSource(context),
        mlflow=MlflowVersionSource(
            context, SeenAliasVersions(clients("dynamodb"), settings.config_table_name)
        ),
    )


handler = EventFunction(
    component="model-deployer",
    settings_model=DeployerSettings,
    build_service=build,
    routes=[
        Route(ModelPackageStateChange, ModelDeployer.on_model_package_state_change),
        Route(EndpointStateChange, ModelDeployer.on_endpoint_state_change),
        Route(EndpointDeploymentStateChange, ModelDeployer.on_endpoint_deployment_state_change),
        Route(MlflowAliasChangedEvent, ModelDeployer.on_mlflow_alias_changed),
        Route(InServiceCheckEvent, ModelDeployer.on_in_service_check),
    ],
)
