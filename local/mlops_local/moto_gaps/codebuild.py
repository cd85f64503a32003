"""CodeBuild's gaps in moto, filled (CodeCommit projects' CI: the shared project, started by a push):

- `AWS::CodeBuild::Project` creates the project (moto skips the resource type); `Ref` gives its name
  and `GetAtt Arn` its ARN, as in AWS.
- StartBuild keeps what the request overrides for this build (moto keeps only `sourceVersion`): the
  service role (`serviceRoleOverride`, by name or ARN), the environment variables
  (`environmentVariablesOverride`, over the project's), the source's type, location and buildspec.
  BatchGetBuilds then shows the build as it would run: `serviceRole`, `environment`, `source`.

No build runs here: a build stays as moto makes it (moto completes it when it is read).
"""

import copy
from typing import Any

from moto.codebuild.models import CodeBuildBackend, codebuild_backends
from moto.codebuild.responses import CodeBuildResponse
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult

from mlops_local.moto_gaps.template_resources import TemplateResourceWithArn


class _CodeBuildProject(TemplateResourceWithArn, CloudFormationModel):
    TYPE = "AWS::CodeBuild::Project"
    NAME_PROPERTY = "Name"

    @classmethod
    def create(
        cls, properties: Any, resource_name: str, account_id: str, region_name: str
    ) -> "_CodeBuildProject":
        name = properties.get("Name") or resource_name
        source = {_camel(key): value for key, value in properties["Source"].items()}
        environment = {_camel(key): value for key, value in properties["Environment"].items()}
        environment["environmentVariables"] = [
            {_camel(key): value for key, value in variable.items()}
            for variable in properties["Environment"].get("EnvironmentVariables", [])
        ]
        logs = properties.get("LogsConfig", {}).get("CloudWatchLogs")
        project = codebuild_backends[account_id][region_name].create_project(
            project_name=name,
            description=properties.get("Description"),
            project_source=source,
            artifacts={_camel(key): value for key, value in properties["Artifacts"].items()},
            environment=environment,
            service_role=properties["ServiceRole"],
            tags=[{"key": tag["Key"], "value": tag["Value"]} for tag in properties.get("Tags", [])],
            cache=None,
            timeout=properties.get("TimeoutInMinutes"),
            queued_timeout=properties.get("QueuedTimeoutInMinutes"),
            source_version=properties.get("SourceVersion"),
            logs_config={"cloudWatchLogs": {_camel(k): v for k, v in logs.items()}} if logs else None,
            vpc_config=None,
        )
        return cls(name, str(project["arn"]))


def _camel(key: str) -> str:
    """A template property's name as CodeBuild's API spells it: `GroupName` → `groupName`, `BuildSpec` →
    `buildspec` (the one that differs by more than its first letter)."""
    return "buildspec" if key == "BuildSpec" else key[:1].lower() + key[1:]


def _keeping_overrides(start_build: Any) -> Any:
    def start_build_with_overrides(
        backend: CodeBuildBackend,
        project_name: str,
        source_version: str | None = None,
        artifact_override: dict[str, Any] | None = None,
        *,
        overrides: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        build: dict[str, Any] = start_build(backend, project_name, source_version, artifact_override)
        project = backend.codebuild_projects[project_name].project_metadata
        overrides = overrides or {}
        role = overrides.get("serviceRoleOverride") or project["serviceRole"]
        if not str(role).startswith("arn:"):  # a role's name: CodeBuild takes either
            role = f"arn:aws:iam::{backend.account_id}:role/{role}"
        build["serviceRole"] = role
        environment = copy.deepcopy(project["environment"])
        variables = {variable["name"]: variable for variable in environment.get("environmentVariables", [])}
        for variable in overrides.get("environmentVariablesOverride") or []:
            variables[variable["name"]] = {"type": "PLAINTEXT", **variable}
        environment["environmentVariables"] = list(variables.values())
        build["environment"] = environment
        source = copy.deepcopy(project["source"])
        for override, key in (
            ("sourceTypeOverride", "type"),
            ("sourceLocationOverride", "location"),
            ("buildspecOverride", "buildspec"),
        ):
            if overrides.get(override):
                source[key] = overrides[override]
        build["source"] = source
        build["logs"]["groupName"] = project.get("logsConfig", {}).get("cloudWatchLogs", {}).get("groupName")
        return build

    return start_build_with_overrides


_OVERRIDES = (
    "serviceRoleOverride",
    "environmentVariablesOverride",
    "sourceTypeOverride",
    "sourceLocationOverride",
    "buildspecOverride",
)


_answer_start_build = CodeBuildResponse.start_build  # moto's, for its own errors


def _start_build_response(response: CodeBuildResponse) -> Any:
    name = response._get_param("projectName")
    if name not in response.codebuild_backend.codebuild_projects:
        return _answer_start_build(response)  # moto's own error for a project that does not exist
    build = response.codebuild_backend.start_build(  # type: ignore[call-arg]
        name,
        response._get_param("sourceVersion"),
        response._get_param("artifactsOverride"),
        overrides={key: response._get_param(key) for key in _OVERRIDES},
    )
    return ActionResult({"build": build})


def patch() -> None:
    """Defining the CloudFormation model registers it (cloudformation.patch clears moto's cache of the
    types it knows); StartBuild keeps its overrides."""
    CodeBuildBackend.start_build = _keeping_overrides(CodeBuildBackend.start_build)  # type: ignore[method-assign]
    CodeBuildResponse.start_build = _start_build_response  # type: ignore[method-assign,assignment]
