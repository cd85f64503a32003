"""ModelDeployerFunction: deploys approved model versions, applies deferred deployments, rolls back."""

from mlops_core.aws_events import EndpointDeploymentStateChange, EndpointStateChange, ModelPackageStateChange
from mlops_core.deployer import ModelDeployer
from mlops_core.event_function import EventFunction, Route
from mlops_core.settings import DeployerSettings

handler = EventFunction(
    component="model-deployer",
    settings_model=DeployerSettings,
    build_service=ModelDeployer.build,
    routes=[
        Route(ModelPackageStateChange, ModelDeployer.on_model_package_state_change),
        Route(EndpointStateChange, ModelDeployer.on_endpoint_state_change),
        Route(EndpointDeploymentStateChange, ModelDeployer.on_endpoint_deployment_state_change),
    ],
)
