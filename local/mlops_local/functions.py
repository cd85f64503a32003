"""The Lambda functions of a deployed stack, as the local runtime needs to know them.

Names, ARNs, environment variables, timeouts and the asynchronous invocation config are read back from
the embedded Lambda, so they are what the template really deployed. Only the code location comes from
the deployment, which knows the local directory behind each placeholder.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from mlops_local.deployment import Deployment

LAMBDA_DEFAULT_MAX_RETRY_ATTEMPTS = 2  # asynchronous invocations without an EventInvokeConfig


@dataclass(frozen=True)
class DeployedFunction:
    logical_id: str
    name: str
    arn: str
    handler: str  # "module.function", e.g. "app.handler"
    runtime: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int
    log_group: str
    max_retry_attempts: int
    on_failure_destination: str | None  # ARN
    role: str = ""  # the execution role's ARN

    @property
    def handler_file(self) -> Path:
        module, _, _ = self.handler.rpartition(".")
        return self.code_dir / f"{module.replace('.', '/')}.py"

    @property
    def handler_name(self) -> str:
        return self.handler.rpartition(".")[2]


def discover_functions(session: boto3.Session, deployment: Deployment) -> dict[str, DeployedFunction]:
    """Every function of the stack whose code is local, by logical ID."""
    lambda_client = session.client("lambda")
    functions = {}
    for resource in deployment.resources.values():
        if resource.resource_type != "AWS::Lambda::Function":
            continue
        properties = deployment.template["Resources"][resource.logical_id]["Properties"]
        code_dir = deployment.local_code_of(properties.get("Code"))
        if code_dir is None:
            continue
        configuration = lambda_client.get_function_configuration(FunctionName=resource.physical_id)
        retries, on_failure = _asynchronous_invocation_config(lambda_client, resource.physical_id)
        functions[resource.logical_id] = DeployedFunction(
            logical_id=resource.logical_id,
            name=configuration["FunctionName"],
            arn=configuration["FunctionArn"],
            handler=configuration["Handler"],
            runtime=configuration.get("Runtime", ""),
            code_dir=code_dir,
            layer_dirs=_layer_dirs(deployment, properties.get("Layers", [])),
            # Lambda's variables are strings; CloudFormation turns numbers into strings, moto does not.
            environment={
                name: str(value)
                for name, value in configuration.get("Environment", {}).get("Variables", {}).items()
            },
            timeout_seconds=configuration["Timeout"],
            memory_mb=configuration["MemorySize"],
            log_group=_log_group(deployment, properties, configuration["FunctionName"]),
            max_retry_attempts=retries,
            on_failure_destination=on_failure,
            role=configuration.get("Role", ""),
        )
    return functions


def _asynchronous_invocation_config(lambda_client: Any, function_name: str) -> tuple[int, str | None]:
    try:
        config = lambda_client.get_function_event_invoke_config(FunctionName=function_name)
    except lambda_client.exceptions.ResourceNotFoundException:
        return LAMBDA_DEFAULT_MAX_RETRY_ATTEMPTS, None
    on_failure = config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    return config.get("MaximumRetryAttempts", LAMBDA_DEFAULT_MAX_RETRY_ATTEMPTS), on_failure


def _layer_dirs(deployment: Deployment, layers: list[Any]) -> tuple[Path, ...]:
    """The local directories of the layers a function refers to with `Ref` (published ARNs are skipped)."""
    dirs = []
    for layer in layers:
        if isinstance(layer, dict) and "Ref" in layer:
            layer_resource = deployment.template["Resources"].get(layer["Ref"], {})
            layer_dir = deployment.local_code_of(layer_resource.get("Properties", {}).get("Content"))
            if layer_dir is not None:
                dirs.append(layer_dir)
    return tuple(dirs)


def _log_group(deployment: Deployment, properties: dict[str, Any], function_name: str) -> str:
    """The function's log group: LoggingConfig's (a name or a `Ref` to one), else Lambda's default."""
    log_group = properties.get("LoggingConfig", {}).get("LogGroup")
    if isinstance(log_group, dict) and log_group.get("Ref") in deployment.resources:
        return deployment.resources[log_group["Ref"]].physical_id
    if isinstance(log_group, str):
        return log_group
    return f"/aws/lambda/{function_name}"
