"""Names of what the control plane reads and creates (docs/architecture.md, "Names").

Model groups and endpoints are ``{project}-{stage}``. Models and endpoint configs get unique,
traceable names: the endpoint, the model package version and a short fingerprint of what was
deployed, at most 63 characters (SageMaker's limit), so that redelivering the same approval
yields the same names (idempotency) and a different deployment of the same version does not.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from mlops_core.contract.topology import Stage

MAX_NAME_LENGTH = 63
# SageMaker resource names: alphanumerics and hyphens, starting and ending with an alphanumeric (the
# pattern of EndpointName and EntityName in the API reference; SageMaker refuses other names).
SAGEMAKER_NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$"
_SAGEMAKER_NAME = re.compile(SAGEMAKER_NAME_PATTERN)
# SageMaker project names are at most 32 characters.
MAX_PROJECT_LENGTH = 32
_MODEL_PACKAGE_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/(?P<group>[a-zA-Z0-9-]+)/(?P<version>\d+)$"
)


@dataclass(frozen=True)
class StageResource:
    """A model group or endpoint that follows the ``{project}-{stage}`` contract."""

    project: str
    stage: Stage

    @property
    def name(self) -> str:
        return f"{self.project}-{self.stage.value}"


def stage_resource_name(project: str, stage: Stage) -> str:
    """The name of a project's model group or endpoint for a stage."""
    validate_project_name(project)
    return f"{project}-{stage.value}"


def parse_stage_resource(name: str) -> StageResource | None:
    """Split ``{project}-{stage}`` into its parts, or None if the name does not follow the contract."""
    project, _, suffix = name.rpartition("-")
    try:
        stage = Stage(suffix)
    except ValueError:
        return None
    if not project or len(project) > MAX_PROJECT_LENGTH or not _SAGEMAKER_NAME.match(project):
        return None
    return StageResource(project=project, stage=stage)


PIPELINE_SUFFIX = "-build"
"""A project's model-building pipeline of a stage is ``{project}-{stage}-build`` (the seed code's
``Target.pipeline_name``); the Slack notifier's pipeline rule and IAM statement key on the suffix."""


def pipeline_name(project: str, stage: Stage) -> str:
    """The model-building pipeline of a project's stage: ``{project}-{stage}-build``."""
    return stage_resource_name(project, stage) + PIPELINE_SUFFIX


def parse_pipeline_name(name: str) -> StageResource | None:
    """``{project}-{stage}-build`` → its project and stage; None for a pipeline outside the contract."""
    if not name.endswith(PIPELINE_SUFFIX):
        return None
    return parse_stage_resource(name.removesuffix(PIPELINE_SUFFIX))


def validate_project_name(project: str) -> None:
    if len(project) > MAX_PROJECT_LENGTH or not _SAGEMAKER_NAME.match(project):
        raise ValueError(
            f"project name {project!r} must be 1-{MAX_PROJECT_LENGTH} letters, digits and single hyphens"
        )


@dataclass(frozen=True)
class ModelPackageRef:
    """The parts of a versioned model package ARN."""

    arn: str
    group: str
    version: int

    @property
    def registry(self) -> str:
        """``arn:{partition}:sagemaker:{region}:{account}``: where the version's model group lives
        (another account than the endpoint's, with a cross-account registry)."""
        return self.arn.split(":model-package/", 1)[0]

    @property
    def group_arn(self) -> str:
        return f"{self.registry}:model-package-group/{self.group}"


def parse_model_package_arn(arn: str) -> ModelPackageRef:
    match = _MODEL_PACKAGE_ARN.match(arn)
    if not match:
        raise ValueError(f"not a versioned model package ARN: {arn!r}")
    return ModelPackageRef(arn=arn, group=match["group"], version=int(match["version"]))


def fingerprint(*parts: object, length: int = 6) -> str:
    """A short, stable hex digest of the parts (same input, same name)."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()
    return digest[:length]


def versioned_resource_name(endpoint_name: str, version: int, *fingerprint_parts: object) -> str:
    """``{endpoint}-v{version}-{fingerprint}``, shortening the endpoint part to fit 63 characters."""
    suffix = f"-v{version}-{fingerprint(*fingerprint_parts)}"
    head = endpoint_name[: MAX_NAME_LENGTH - len(suffix)].rstrip("-")
    return head + suffix


_VERSIONED_NAME = re.compile(r"^(?P<head>.+)-v(?P<version>\d+)-(?P<fingerprint>[0-9a-f]{6})$")


def parse_versioned_resource_name(name: str) -> tuple[str, int] | None:
    """``{endpoint}-v{version}-{fingerprint}`` → (endpoint part, version); None for other names."""
    match = _VERSIONED_NAME.match(name)
    if not match:
        return None
    return match["head"], int(match["version"])


def model_version_uri(name: str, version: int) -> str:
    """``models:/{name}/{version}``: MLflow's own URI of a registered model version."""
    return f"models:/{name}/{version}"
