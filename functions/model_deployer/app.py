"""ModelDeployerFunction: deploys approved model versions (registry approvals and MLflow alias changes),
applies deferred deployments, rolls back."""

from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.adapters.cloudwatch import CloudWatchAlarms
from mlops_core.adapters.config_table import ConfigTable
from mlops_core.adapters.mlflow_alias_state import SeenAliasVersions
from mlops_core.adapters.sagemaker import SageMakerAdapter
from mlops_core.contract.aws_events import (
    EndpointDeploymentStateChange,
    EndpointStateChange,
    ModelPackageStateChange,
)
from mlops_core.deployment.mlflow_versions import MlflowAliasChangedEvent, MlflowModelDeployer
from mlops_core.handlers.event_function import EventFunction, Route
from mlops_core.settings import DeployerSettings


def build(settings: DeployerSettings, clients: ClientFactory) -> MlflowModelDeployer:
    return MlflowModelDeployer(
        settings,
        SageMakerAdapter(clients("sagemaker")),
        ConfigTable(clients("dynamodb"), settings.config_table_name),
        CloudWatchAlarms(clients("cloudwatch")),
        SeenAliasVersions(clients("dynamodb"), settings.config_table_name),
    )


handler = EventFunction(
    component="model-deployer",
    settings_model=DeployerSettings,
    build_service=build,
    routes=[
        Route(ModelPackageStateChange, MlflowModelDeployer.on_model_package_state_change),
        Route(EndpointStateChange, MlflowModelDeployer.on_endpoint_state_change),
        Route(EndpointDeploymentStateChange, MlflowModelDeployer.on_endpoint_deployment_state_change),
        Route(MlflowAliasChangedEvent, MlflowModelDeployer.on_mlflow_alias_changed),
    ],
)
