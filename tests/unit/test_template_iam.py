"""No IAM statement lets the control plane change SageMaker resources it cannot tell are its own
(docs/security.md, "The IAM rule").

The statements checked are every IAM statement anywhere in template.yaml *after the SAM transform* (the
functions' inline `Policies`, SAM's own policy templates and the roles SAM generates, the Service Catalog
launch role, resource policies) and in the Service Catalog product (service-catalog/sagemaker-project.yaml).
The transform is samtranslator's, as local/mlops_local/deployment.py runs it; both branches of every
`Fn::If` and every conditional resource are checked.

The rule. An `Allow` statement fails when it grants a *mutating SageMaker action* on an *unscoped resource*
without a *stack tag condition*:

- SageMaker action: any action of the `sagemaker` service or a `sagemaker-*` one (`sagemaker-mlflow`...),
  `*`, and any `NotAction` (it grants everything it does not name).
- Mutating: anything but the read-only names `Describe*`, `List*`, `Get*`, `Search`, `BatchDescribe*`,
  `BatchGet*`, `QueryLineage` and `InvokeEndpoint*` (invoking changes no resource). A wildcard action is
  read-only only if the text before its first wildcard already starts with one of those names
  (`sagemaker:Describe*` is, `sagemaker:D*` and `sagemaker:*` are not). IAM action names are
  case-insensitive, and so is this.
- Unscoped resource: `*`, any `NotResource`, an ARN whose resource part names no resource type or a
  wildcard one (`arn:aws:sagemaker:us-east-1:123456789012:*`), or every resource of a type (`endpoint/*`,
  `model-package/*/*`: nothing but wildcards after the type). A name pattern (`model-package/*-dev/*`: the
  `{project}-{stage}` convention) is scoped. A value the template cannot pin down (a parameter, an
  import, `${Parameter}` inside the ARN) counts as `*`; a `Ref`/`GetAtt` of one of the template's own
  resources is scoped.
- Stack tag condition: `StringEquals` or `StringLike` (not `...IfExists`, which lets untagged resources
  through) on `aws:ResourceTag/mlops:*`, `sagemaker:ResourceTag/mlops:*` or `aws:RequestTag/mlops:*`, with
  a value that is not only wildcards.

AWS managed policies cannot be read offline, so a role may attach only the two SAM adds to every function
(CloudWatch Logs and X-Ray writes, no SageMaker) and the template's own managed policies
(`AWS::IAM::ManagedPolicy`, whose statements the rule walks with the rest). `python -m tests.unit.test_template_iam` prints the
expanded template for `make security` (checkov), each generated resource carrying the checkov skips of the
SAM resource it came from.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from mlops_local.cfn_yaml import load_template
from mlops_local.deployment import _NoManagedPolicyLookups
from samtranslator.translator.transform import transform

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
PRODUCT_PATH = REPO_ROOT / "service-catalog" / "sagemaker-project.yaml"

REGION, ACCOUNT, STACK = "us-east-1", "123456789012", "mlops"
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": STACK,
    "AWS::URLSuffix": "amazonaws.com",
}
# The AWS managed policies SAM attaches to every function role it generates (logs; X-Ray because Globals set
# Tracing). A role may attach these and the template's own managed policies.
ALLOWED_AWS_MANAGED_POLICIES = {"service-role/AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"}

READ_ONLY_PREFIXES = (
    "describe",
    "list",
    "get",
    "search",
    "batchdescribe",
    "batchget",
    "querylineage",
    "invokeendpoint",
)
TAG_CONDITION_KEYS = ("aws:resourcetag/mlops:", "sagemaker:resourcetag/mlops:", "aws:requesttag/mlops:")
TAG_CONDITION_OPERATORS = {"stringequals", "stringlike"}
_SAM_CODE_PROPERTIES = ("CodeUri", "ContentUri")


# ---------------------------------------------------------------- the SAM transform
def expand_sam_template(template: dict[str, Any]) -> dict[str, Any]:
    """`template` as CloudFormation: the SAM transform, with its code pointed at S3 placeholders and the
    parameters at their defaults (a placeholder where there is none). Metadata passes through."""
    sam = copy.deepcopy(template)
    sam.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    for resource in sam.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        for name in _SAM_CODE_PROPERTIES:
            if name in properties:
                properties[name] = "s3://placeholder-code/placeholder.zip"
    parameters: dict[str, Any] = {
        name: declared.get("Default", f"arn:aws:iam::{ACCOUNT}:role/placeholder")
        for name, declared in sam.get("Parameters", {}).items()
    }
    parameters.update({"AWS::StackName": STACK, "AWS::Region": REGION})
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION}):
        return transform(sam, parameters, _NoManagedPolicyLookups(), passthrough_metadata=True)


@functools.cache
def _expanded_template_text() -> str:
    return json.dumps(expand_sam_template(load_template(TEMPLATE_PATH)))


def expanded_template() -> dict[str, Any]:
    """template.yaml after the SAM transform, as `expand_sam_template` gives it. The transform runs once per
    test process; each caller gets a copy of its own."""
    return dict(json.loads(_expanded_template_text()))


def with_inherited_checkov_skips(sam: dict[str, Any], expanded: dict[str, Any]) -> dict[str, Any]:
    """`expanded` with each resource that SAM generated (`{LogicalId}Role`, `{LogicalId}Url`...) carrying
    the checkov skips of the SAM resource it came from, so that a skip justified next to the SAM
    resource also covers what SAM made of it."""
    result = copy.deepcopy(expanded)
    sam_resources = sam.get("Resources", {})
    for logical_id, resource in sam_resources.items():
        skips = resource.get("Metadata", {}).get("checkov")
        if not skips:
            continue
        for generated_id, generated in result["Resources"].items():
            if generated_id.startswith(logical_id) and generated_id not in sam_resources:
                generated.setdefault("Metadata", {}).setdefault("checkov", copy.deepcopy(skips))
    return result


# ---------------------------------------------------------------- the rule
def iam_statements(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM statement (a mapping with `Effect` and `Action`/`NotAction`) anywhere under `node`."""
    if isinstance(node, dict):
        if "Effect" in node and ("Action" in node or "NotAction" in node):
            yield path, node
            return
        for key, value in node.items():
            yield from iam_statements(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from iam_statements(value, f"{path}[{index}]")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def is_mutating_sagemaker_action(action: str) -> bool:
    action = action.lower()
    if action == "*":
        return True
    service, _, name = action.partition(":")
    if service != "sagemaker" and not service.startswith("sagemaker-"):
        return False
    literal = re.split(r"[*?]", name, maxsplit=1)[0]
    return not literal.startswith(READ_ONLY_PREFIXES)


def _substitute(text: str, variables: dict[str, Any], resources: set[str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return match.group(0)  # ${!Literal}
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if isinstance(variables.get(name), str):
            return str(variables[name])
        if name.split(".", 1)[0] in resources and name not in variables:
            return f"resource-{name.split('.', 1)[0]}"
        return "*"  # a parameter or an intrinsic: anything

    return re.sub(r"\$\{([^}]+)\}", value, text)


def resource_values(value: Any, template: dict[str, Any]) -> list[str]:
    """The strings a `Resource` entry can take (`*` for what the template does not pin down)."""
    resources = set(template.get("Resources", {}))
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in resource_values(item, template)]
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::If":
            return resource_values(argument[1], template) + resource_values(argument[2], template)
        if function == "Ref":
            if argument == "AWS::NoValue":
                return []
            return [f"resource-{argument}"] if argument in resources else ["*"]
        if function == "Fn::GetAtt":
            target = argument[0] if isinstance(argument, list) else str(argument).split(".", 1)[0]
            return [f"resource-{target}"] if target in resources else ["*"]
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            return [_substitute(text, variables, resources)]
    return ["*"]


def is_unscoped(resource: str) -> bool:
    if resource.startswith("resource-"):
        return False  # one of the template's own resources
    if not resource.startswith("arn:"):
        return resource.strip() == "" or set(resource) <= {"*", "?"}
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return True
    match = re.fullmatch(r"([^/:]*)([/:]?)(.*)", parts[5], re.DOTALL)
    assert match is not None  # the pattern matches any text
    resource_type, separator, name = match.groups()
    if not resource_type or re.search(r"[*?]", resource_type):
        return True
    return bool(separator) and set(name) <= {"*", "?", "/", ":"}


def has_stack_tag_condition(statement: dict[str, Any]) -> bool:
    for operator, conditions in statement.get("Condition", {}).items():
        if operator.lower() not in TAG_CONDITION_OPERATORS or not isinstance(conditions, dict):
            continue
        for key, expected in conditions.items():
            values = _as_list(expected)
            if (
                key.lower().startswith(TAG_CONDITION_KEYS)
                and values
                and all(not (isinstance(v, str) and set(v) <= {"*", "?"}) for v in values)
            ):
                return True
    return False


def violations(template: dict[str, Any]) -> list[str]:
    """Why each offending statement of `template` (CloudFormation, already expanded) breaks the rule."""
    found = []
    for path, statement in iam_statements(template.get("Resources", {})):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            mutating = [f"NotAction {statement['NotAction']}"]
        else:
            mutating = [a for a in _as_list(statement["Action"]) if is_mutating_sagemaker_action(str(a))]
        if not mutating:
            continue
        if "NotResource" in statement:
            unscoped = [f"NotResource {statement['NotResource']}"]
        else:
            unscoped = [
                text
                for text in resource_values(statement.get("Resource", "*"), template)
                if is_unscoped(text)
            ]
        if unscoped and not has_stack_tag_condition(statement):
            sid = statement.get("Sid", "(no Sid)")
            found.append(f"{path} {sid}: {mutating} on {unscoped} without a mlops:* tag condition")
    return found


def managed_policies(template: dict[str, Any]) -> list[str]:
    """The managed policies the template's roles attach: an AWS managed policy by its name, one of the
    template's own as `resource-{LogicalId}`."""
    names = []
    for resource in template.get("Resources", {}).values():
        for arn in resource.get("Properties", {}).get("ManagedPolicyArns", []):
            text = resource_values(arn, template)[0] if not isinstance(arn, str) else arn
            names.append(text.split(":policy/", 1)[-1])
    return names


def allowed_managed_policies(template: dict[str, Any]) -> set[str]:
    own = {
        f"resource-{logical_id}"
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
    }
    return ALLOWED_AWS_MANAGED_POLICIES | own


# ---------------------------------------------------------------- the real templates
@pytest.fixture(scope="module")
def expanded() -> dict[str, Any]:
    return expanded_template()


def test_template_grants_no_mutating_sagemaker_action_on_unscoped_resources_without_a_tag_condition(expanded):
    assert violations(expanded) == []


def test_service_catalog_product_grants_no_mutating_sagemaker_action_on_unscoped_resources():
    assert violations(load_template(PRODUCT_PATH)) == []


def test_function_roles_attach_no_managed_policy_beyond_logs_xray_and_the_templates_own(expanded):
    attached = managed_policies(expanded)
    assert attached  # SAM's generated roles are in the walk
    assert set(attached) <= allowed_managed_policies(expanded)
    # The projects' CI policy is attached at run time, to the CI roles the project lifecycle creates.
    own = allowed_managed_policies(expanded) - ALLOWED_AWS_MANAGED_POLICIES - {"resource-ProjectCiPolicy"}
    assert "resource-ProjectCiPolicy" not in attached
    assert own and own <= set(attached)  # the template's own are attached, and their statements walked:
    walked = {path.split("/", 2)[1] for path, _ in iam_statements(expanded["Resources"])}
    assert {name.removeprefix("resource-") for name in own} <= walked


def test_the_walk_reaches_every_role_and_the_stacks_sagemaker_mutations(expanded):
    roles = [r for r in expanded["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    functions = [r for r in expanded["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    # one per function, the Service Catalog launch role, the roles of the batch schedules (they start
    # jobs) and of the in-service checks (they put an event on the bus), and the CodeCommit projects' CI:
    # the shared CodeBuild project's own role and the role EventBridge starts it as
    assert len(roles) == len(functions) + 5
    for role in roles:
        assert list(iam_statements(role)), "every role has statements the rule walks"
    mutations = [
        action
        for _, statement in iam_statements(expanded["Resources"])
        for action in _as_list(statement.get("Action", []))
        if is_mutating_sagemaker_action(action)
    ]
    # The rule is exercised: the deployer's creates and deletes, the lifecycle's groups, the copier's copies.
    assert {
        "sagemaker:CreateEndpoint",
        "sagemaker:DeleteModelPackageGroup",
        "sagemaker:CreateModelPackage",
    } <= set(mutations)


def scan_grants(template: dict[str, Any]) -> list[str]:
    """The Allow statements that would let a role Scan a DynamoDB table: an action matching
    ``dynamodb:Scan`` (IAM wildcards, case-insensitive), or a ``NotAction`` (it grants what it does not name)."""
    found = []
    for path, statement in iam_statements(template.get("Resources", template)):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            found.append(f"{path}: NotAction")
            continue
        for action in _as_list(statement["Action"]):
            if isinstance(action, str) and fnmatch.fnmatchcase("dynamodb:scan", action.lower()):
                found.append(f"{path}: {action}")
    return found


def test_no_role_may_scan_a_table(expanded):
    """A Scan reads the whole table, a cost that grows with everything the table holds: the functions
    read by key (GetItem, Query, the config table's ProjectsByRegistry index). Without the permission, a
    Scan in product code is refused by the local cloud's IAM enforcement as by AWS."""
    assert scan_grants(expanded) == []


@pytest.mark.parametrize("action", ["dynamodb:Scan", "dynamodb:*", "DynamoDB:S*", "*"])
def test_a_scan_grant_is_caught(action):
    assert scan_grants({"Resources": {"R": {"Statement": [_statement(action)]}}})


# ---------------------------------------------------------------- the rule on synthetic templates
def _sam_function(policies: list[Any]) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Parameters": {"Anything": {"Type": "String", "Default": "*"}},
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Runtime": "python3.13",
                    "Handler": "app.handler",
                    "CodeUri": "functions/x/",
                    "Policies": policies,
                },
            }
        },
    }


def _statement(action: Any, resource: Any = "*", condition: Any = None) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition is not None:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def _expanded_violations(policies: list[Any]) -> list[str]:
    return violations(expand_sam_template(_sam_function(policies)))


ENDPOINTS = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/*"
MANAGED = {"StringEquals": {"aws:ResourceTag/mlops:managed-by": {"Ref": "AWS::StackName"}}}


@pytest.mark.parametrize(
    "policy",
    [
        _statement("sagemaker:CreateEndpoint"),
        _statement(["sagemaker:DescribeEndpoint", "sagemaker:DeleteEndpoint"]),
        _statement("sagemaker:*"),
        _statement("SageMaker:D*"),
        _statement("*"),
        _statement("sagemaker-mlflow:UpdateRegisteredModel"),
        _statement("sagemaker:UpdateEndpoint", "arn:aws:sagemaker:us-east-1:123456789012:*"),
        _statement("sagemaker:UpdateEndpoint", {"Fn::Sub": ENDPOINTS}),
        _statement("sagemaker:DeleteModelPackage", {"Fn::Sub": "arn:aws:sagemaker:*:*:model-package/*/*"}),
        _statement("sagemaker:UpdateEndpoint", {"Fn::Sub": "arn:aws:sagemaker:*:*:endpoint/${Anything}"}),
        _statement("sagemaker:UpdateEndpoint", {"Ref": "Anything"}),
        _statement("sagemaker:UpdateEndpoint", {"Fn::If": ["C", "arn:aws:sagemaker:*:*:endpoint/x", "*"]}),
        _statement(
            "sagemaker:UpdateEndpoint",
            condition={"StringEqualsIfExists": {"aws:ResourceTag/mlops:managed-by": "mlops"}},
        ),
        _statement(
            "sagemaker:UpdateEndpoint", condition={"StringLike": {"aws:ResourceTag/mlops:managed-by": "*"}}
        ),
        _statement("sagemaker:UpdateEndpoint", condition={"StringEquals": {"aws:ResourceTag/team": "ml"}}),
        _statement("sagemaker:UpdateEndpoint", condition={"StringNotEquals": MANAGED["StringEquals"]}),
        {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "sagemaker:DeleteEndpoint", "NotResource": "arn:x"}]},
        # SAM's own policy template, expanded by the transform into endpoint/* (every endpoint).
        {"SageMakerCreateEndpointPolicy": {"EndpointName": "*"}},
    ],
    ids=lambda policy: json.dumps(policy)[:80],
)
def test_rule_refuses_an_unscoped_sagemaker_mutation_without_a_tag_condition(policy):
    assert len(_expanded_violations([policy])) == 1


@pytest.mark.parametrize(
    "policy",
    [
        _statement(["sagemaker:DescribeEndpoint", "sagemaker:ListModels", "sagemaker:Search"]),
        _statement(["sagemaker:Describe*", "sagemaker:BatchDescribeModelPackage", "sagemaker:Get*"]),
        _statement("sagemaker:InvokeEndpoint"),
        _statement("s3:PutObject"),
        _statement("sagemaker:UpdateEndpoint", {"Fn::Sub": ENDPOINTS}, MANAGED),
        _statement("sagemaker:DeleteEndpoint", condition=MANAGED),
        _statement(
            "sagemaker:CreateEndpoint",
            {"Fn::Sub": ENDPOINTS},
            {"StringEquals": {"aws:RequestTag/mlops:managed-by": {"Ref": "AWS::StackName"}}},
        ),
        _statement(
            "sagemaker:UpdateEndpoint", condition={"StringLike": {"sagemaker:ResourceTag/mlops:stage": "dev"}}
        ),
        _statement(
            "sagemaker:UpdateModelPackage",
            {
                "Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:model-package/*-dev/*"
            },
        ),
        _statement("sagemaker:UpdateEndpoint", "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-dev"),
        {"Statement": [{"Effect": "Deny", "Action": "sagemaker:*", "Resource": "*"}]},
        {"SageMakerCreateEndpointPolicy": {"EndpointName": "churn-dev"}},
    ],
    ids=lambda policy: json.dumps(policy)[:80],
)
def test_rule_accepts_reads_scoped_resources_and_tag_conditioned_mutations(policy):
    assert _expanded_violations([policy]) == []


def test_a_managed_policy_beyond_logs_and_xray_is_caught():
    expanded = expand_sam_template(_sam_function(["AmazonSageMakerFullAccess"]))
    assert not set(managed_policies(expanded)) <= allowed_managed_policies(expanded)


def test_a_managed_policy_of_the_template_is_allowed_and_its_statements_are_walked():
    sam = _sam_function([{"Ref": "Shared"}])
    sam["Resources"]["Shared"] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"PolicyDocument": _statement("sagemaker:DeleteEndpoint", {"Fn::Sub": ENDPOINTS})},
    }
    expanded = expand_sam_template(sam)
    assert "resource-Shared" in managed_policies(expanded)
    assert set(managed_policies(expanded)) <= allowed_managed_policies(expanded)
    assert len(violations(expanded)) == 1


def test_checkov_skips_of_a_sam_function_cover_what_sam_generates_from_it():
    sam = _sam_function([])
    skips = {"skip": [{"id": "CKV_AWS_258", "comment": "HMAC-signed deliveries"}]}
    sam["Resources"]["Fn"]["Metadata"] = {"checkov": skips}
    sam["Resources"]["Fn"]["Properties"]["FunctionUrlConfig"] = {"AuthType": "NONE"}
    result = with_inherited_checkov_skips(sam, expand_sam_template(sam))
    assert result["Resources"]["FnUrl"]["Metadata"]["checkov"] == skips
    assert result["Resources"]["FnRole"]["Metadata"]["checkov"] == skips
    assert result["Resources"]["Fn"]["Metadata"]["checkov"] == skips


if __name__ == "__main__":  # `make security`: the expanded template.yaml for checkov
    json.dump(
        with_inherited_checkov_skips(load_template(TEMPLATE_PATH), expanded_template()), sys.stdout, indent=1
    )
    sys.stdout.write("\n")
