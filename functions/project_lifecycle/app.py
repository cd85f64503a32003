"""ProjectLifecycleFunction: a SageMaker project's custom resource (repository, model groups, record)."""

from mlops_core.custom_resource import CustomResourceFunction
from mlops_core.project_lifecycle import ProjectLifecycle
from mlops_core.settings import ProjectLifecycleSettings

handler = CustomResourceFunction(
    component="project-lifecycle",
    settings_model=ProjectLifecycleSettings,
    build_service=ProjectLifecycle.build,
    on_create=ProjectLifecycle.create,
    on_update=ProjectLifecycle.update,
    on_delete=ProjectLifecycle.delete,
)
