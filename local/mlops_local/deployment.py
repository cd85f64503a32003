"""Deploy a SAM template into the embedded AWS the way `sam deploy` does: transform, then CloudFormation.

The code is not packaged: every CodeUri/ContentUri points at a tiny placeholder zip in the embedded S3
(one key per resource), and the deployment remembers which local directory each key stands for. The
functions run in-process from those directories, so moto never needs their code.

Everything else (tables, buses, rules, queues, environment variables) comes from the real SAM
transform and moto's CloudFormation, so a wiring mistake in the template fails here.
"""

import io
import json
import logging
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.cloudformation.parsing import get_model_map
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform

from mlops_local.cfn_yaml import load_template
from mlops_local.environment import quiet_logger
from mlops_local.errors import DeploymentError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"

CODE_BUCKET = "mlops-local-code"
EXECUTION_ROLE_NAME = "mlops-local-sagemaker-execution"
EXECUTION_ROLE_PARAMETER = "SageMakerExecutionRoleArn"
_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
# Where SAM reads a resource's local code; the keys of this map are the SAM types that have some.
_CODE_PROPERTY = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}

# The SAM transform records metrics for AWS's own use and, when the garbage collector gets to them, warns
# that nobody published them.
logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    resource_type: str
    physical_id: str


@dataclass(frozen=True)
class Deployment:
    """A stack created from a template: its resources, outputs, and the local code behind it."""

    stack_name: str
    template: dict[str, Any]  # as deployed: the CloudFormation that the SAM transform produced
    resources: dict[str, StackResource]
    outputs: dict[str, str]
    local_code: dict[str, Path]  # placeholder S3 key -> the local directory it stands for
    skipped_resources: tuple[str, ...]  # logical IDs of resource types the embedded AWS cannot create

    def local_code_of(self, code: Any) -> Path | None:
        """The local directory behind a deployed `Code`/`Content` property, if it is a placeholder."""
        if isinstance(code, dict) and code.get("S3Bucket") == CODE_BUCKET:
            return self.local_code.get(code.get("S3Key", ""))
        return None


class _NoManagedPolicyLookups:
    """The SAM transform's managed-policy loader, for the rare policy name its bundled map lacks.

    A real one lists IAM's AWS-managed policies; the embedded IAM has none to list, and SAM then keeps the
    name as it is.
    """

    def load(self) -> dict[str, str]:
        return {}


def deploy(
    session: boto3.Session, template_path: Path, *, stack_name: str, parameters: dict[str, str]
) -> Deployment:
    """Create stack `stack_name` from the SAM template at `template_path`; DeploymentError if it fails."""
    template = load_template(template_path)
    local_code = _point_code_at_placeholders(template, template_path.parent)
    _upload_placeholders(session, local_code)
    stack_parameters = _stack_parameters(session, template, parameters)
    transformed = _transform(template, stack_parameters, stack_name=stack_name, region=session.region_name)
    # moto warns about each resource type it skips whenever the stack is read; `skipped_resources` has them.
    with quiet_logger("moto", level=logging.ERROR), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Tried to parse .* but it's not supported by moto")
        resources, outputs = _create_stack(session, stack_name, transformed, stack_parameters)
    known_types = get_model_map()
    skipped = tuple(
        logical_id
        for logical_id, resource in transformed["Resources"].items()
        if resource["Type"] not in known_types
        and not resource["Type"].startswith("Custom::")
        and _condition_holds(transformed, resource.get("Condition"), stack_parameters)
    )
    return Deployment(stack_name, transformed, resources, outputs, local_code, skipped)


def _condition_holds(template: dict[str, Any], condition: Any, parameters: dict[str, str]) -> bool:
    """Whether a resource's `Condition` is true, so that a resource switched off by a condition is not
    counted as skipped. Knows Equals/Not/And/Or/Condition over `Ref`s of parameters and literals."""
    if condition is None:
        return True

    def value(node: Any) -> Any:
        if isinstance(node, dict) and "Ref" in node:
            declared = template.get("Parameters", {}).get(node["Ref"], {})
            return str(parameters.get(node["Ref"], declared.get("Default", "")))
        return node if not isinstance(node, dict) else holds(node)

    def holds(node: Any) -> bool:
        if isinstance(node, str):
            return holds(template.get("Conditions", {})[node])
        ((operator, operands),) = node.items()
        if operator == "Condition":
            return holds(operands)
        if operator == "Fn::Equals":
            return bool(value(operands[0]) == value(operands[1]))
        if operator == "Fn::Not":
            return not holds(operands[0])
        if operator == "Fn::And":
            return all(holds(operand) for operand in operands)
        if operator == "Fn::Or":
            return any(holds(operand) for operand in operands)
        return True  # an intrinsic this does not know: count the resource

    return holds(condition)


def _point_code_at_placeholders(template: dict[str, Any], base_dir: Path) -> dict[str, Path]:
    """Replace each local CodeUri/ContentUri (Globals' included) by a placeholder; return what each was."""
    global_code_uri = template.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    local_code: dict[str, Path] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        code_property = _CODE_PROPERTY.get(resource.get("Type", ""))
        if code_property is None:
            continue
        properties = resource.setdefault("Properties", {})
        uri = properties.get(code_property, global_code_uri if code_property == "CodeUri" else None)
        if not isinstance(uri, str) or uri.startswith("s3://"):
            continue  # inline code, or code that is already in S3
        key = f"{logical_id}.zip"
        local_code[key] = (base_dir / uri).resolve()
        properties[code_property] = f"s3://{CODE_BUCKET}/{key}"
    return local_code


def _upload_placeholders(session: boto3.Session, local_code: dict[str, Path]) -> None:
    s3 = session.client("s3")
    s3.create_bucket(Bucket=CODE_BUCKET)
    for key, directory in local_code.items():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("README.txt", f"mlops_local runs this code from {directory}\n")
        s3.put_object(Bucket=CODE_BUCKET, Key=key, Body=buffer.getvalue())


def _stack_parameters(
    session: boto3.Session, template: dict[str, Any], parameters: dict[str, str]
) -> dict[str, str]:
    """The given parameters, plus a SageMaker execution role (embedded IAM) if the template asks for one."""
    declared = template.get("Parameters", {})
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise DeploymentError(f"Parameters {unknown} do not exist in the template; it has {sorted(declared)}")
    resolved = dict(parameters)
    if EXECUTION_ROLE_PARAMETER in declared and EXECUTION_ROLE_PARAMETER not in resolved:
        resolved[EXECUTION_ROLE_PARAMETER] = _sagemaker_execution_role(session)
    return resolved


def _sagemaker_execution_role(session: boto3.Session) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = session.client("iam").create_role(
        RoleName=EXECUTION_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust)
    )
    return str(role["Role"]["Arn"])


def _transform(
    template: dict[str, Any], parameters: dict[str, str], *, stack_name: str, region: str
) -> dict[str, Any]:
    parameter_values = {**parameters, "AWS::StackName": stack_name, "AWS::Region": region}
    try:
        transformed: dict[str, Any] = transform(template, parameter_values, _NoManagedPolicyLookups())
        return transformed
    except InvalidDocumentException as error:
        causes = "; ".join(cause.message for cause in error.causes)
        raise DeploymentError(f"the SAM transform rejected the template: {causes}") from error


def _create_stack(
    session: boto3.Session, stack_name: str, template: dict[str, Any], parameters: dict[str, str]
) -> tuple[dict[str, StackResource], dict[str, str]]:
    # One attempt: an error from the embedded CloudFormation does not go away by retrying.
    cloudformation = session.client("cloudformation", config=Config(retries={"max_attempts": 1}))
    try:
        cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
            Capabilities=_CAPABILITIES,
        )
    except ClientError as error:
        raise DeploymentError(f"CreateStack {stack_name} failed: {error}") from error
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise DeploymentError(
            f"stack {stack_name} is {stack['StackStatus']}: {_failure_reasons(cloudformation, stack_name)}"
        )
    summaries = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
    resources = {
        summary["LogicalResourceId"]: StackResource(
            summary["LogicalResourceId"], summary["ResourceType"], summary.get("PhysicalResourceId", "")
        )
        for page in summaries
        for summary in page["StackResourceSummaries"]
    }
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    return resources, outputs


def _failure_reasons(cloudformation: Any, stack_name: str) -> str:
    events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    reasons = [
        f"{event['LogicalResourceId']} ({event['ResourceType']}): {event.get('ResourceStatusReason', '?')}"
        for event in events
        if event["ResourceStatus"] == "CREATE_FAILED"
    ]
    return "; ".join(reasons) or "no resource reported a reason"
