"""ModelDeployerFunction: deploys approved model versions (registry approvals and MLflow alias changes),
applies deferred deployments, rolls back."""

from mlops_core.aws_events import EndpointDeploymentStateChange, EndpointStateChange, ModelPackageStateChange
from mlops_core.event_function import EventFunction, Route
from mlops_core.mlflow_deployment import MlflowAliasChangedEvent, MlflowModelDeployer
from mlops_core.settings import DeployerSettings

handler = EventFunction(
    component="model-deployer",
    settings_model=DeployerSettings,
    build_service=MlflowModelDeployer.build,
    routes=[
        Route(ModelPackageStateChange, MlflowModelDeployer.on_model_package_state_change),
        Route(EndpointStateChange, MlflowModelDeployer.on_endpoint_state_change),
        Route(EndpointDeploymentStateChange, MlflowModelDeployer.on_endpoint_deployment_state_change),
        Route(MlflowAliasChangedEvent, MlflowModelDeployer.on_mlflow_alias_changed),
    ],
)
