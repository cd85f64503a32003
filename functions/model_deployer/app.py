"""ModelDeployerFunction: deploys an approved model version to its stage's endpoint."""

from mlops_core.aws_events import ModelPackageStateChange
from mlops_core.deployer import ModelDeployer
from mlops_core.event_function import EventFunction, Route
from mlops_core.settings import DeployerSettings

handler = EventFunction(
    component="model-deployer",
    settings_model=DeployerSettings,
    build_service=ModelDeployer.build,
    routes=[Route(ModelPackageStateChange, ModelDeployer.on_model_package_state_change)],
)
