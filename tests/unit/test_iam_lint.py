"""Every IAM policy of the project passes parliament, or its finding is accepted here and justified in
docs/security.md ("IAM policy lint").

The policies linted are every IAM policy document in template.yaml *after the SAM transform* (the functions'
roles as SAM generates them, its policy templates and inline statements expanded; the managed policies that
several functions attach; the Service Catalog launch role; the queue's resource policy) and in
service-catalog/sagemaker-project.yaml. Trust policies
(`AssumeRolePolicyDocument`) are left out: parliament reads identity and resource policies only (a trust
policy has no `Resource`); checkov's IAM checks cover them.

parliament reads JSON, not CloudFormation, so each document's intrinsics are resolved first, as a deployment
in account 123456789012, us-east-1, stack `mlops` would resolve them: parameters take their default (or the
example value in LINT_PARAMETER_VALUES where the default is empty or missing), `!GetAtt X.Arn` the ARN shape
of X's type, and `!If` *both* branches (a list gets both; a single value becomes the list of the two), so both
deployments of a conditional statement are linted at once.

parliament runs with its community auditors (permissions management, credentials exposure, privilege
escalation, sensitive access, too-permissive single-value conditions) on top of its own checks (unknown
prefixes, actions and condition keys, resource/action mismatches, `Resource: "*"` where a resource type
exists, malformed ARNs, condition type mismatches). A finding is identified by its issue, the policy, the
statements it concerns (by Sid) and its subject (the actions it names, or its detail), so an acceptance
covers that one finding and nothing that appears next to it. `python -m tests.unit.test_iam_lint` (run by
`make security`) prints every finding and fails on an unaccepted one or an acceptance that no longer matches.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from cfnlint.data import AdditionalSpecs
from cfnlint.helpers import load_resource
from mlops_local.cfn_yaml import load_template

from tests.unit.test_template_iam import (
    ACCOUNT,
    PRODUCT_PATH,
    PSEUDO_PARAMETERS,
    REPO_ROOT,
    TEMPLATE_PATH,
    expanded_template,
)

# parliament opens its bundled IAM definition and configuration without closing them (a ResourceWarning at
# import and when its configuration is overridden); nothing else is silenced.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ResourceWarning)
    import parliament
    from parliament import analyze_policy_string, expand_action

    parliament.override_config(
        str(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")
    )

# parliament's bundled definition types some multi-valued condition keys `ArrayOfARN` (events:TargetArn),
# a type its own check of a condition's values does not know (it raises): such a key's values are ARNs.
_translate_types = parliament.statement.translate_documentation_types
parliament.statement.translate_documentation_types = lambda name: (  # type: ignore[assignment]
    "Arn" if name == "ArrayOfARN" else _translate_types(name)
)

SECURITY_DOC = REPO_ROOT / "docs" / "security.md"

# Where a parameter's default is empty or missing, the value a real deployment would give it (parliament
# checks ARN shapes, so an empty string would not stand for a deployment).
LINT_PARAMETER_VALUES = {
    "SageMakerExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/SageMakerExecutionRole",
    "RegistryAccountId": "210987654321",
    "GitHubTokenSecretName": "mlops/github-token",
    "GitLabTokenSecretName": "mlops/gitlab-token",
    "ProjectArtifactBucket": "mlops-pipeline-artifacts",
    "MlflowTrackingUri": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:mlflow-tracking-server/mlops",
    "MlflowTokenSecretName": "mlops/mlflow-token",
    "MlflowWebhookSecretName": "mlops/mlflow-webhook",
}
# The ARN `!GetAtt X.Arn` returns, by X's type ({name}: the physical name CloudFormation would generate).
ARN_FORMATS = {
    "AWS::CodeBuild::Project": "arn:aws:codebuild:{region}:{account}:project/{name}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "AWS::Events::EventBus": "arn:aws:events:{region}:{account}:event-bus/{name}",
    "AWS::IAM::Role": "arn:aws:iam::{account}:role/{name}",
    "AWS::IAM::ManagedPolicy": "arn:aws:iam::{account}:policy/{name}",
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::S3::Bucket": "arn:aws:s3:::{name}",
    "AWS::SNS::Topic": "arn:aws:sns:{region}:{account}:{name}",
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "AWS::SecretsManager::Secret": "arn:aws:secretsmanager:{region}:{account}:secret:{name}-AbCdEf",
}
# Resource types whose `!Ref` is their ARN.
REF_IS_ARN = {"AWS::SNS::Topic", "AWS::SecretsManager::Secret", "AWS::IAM::ManagedPolicy"}
REF_IS_NAME_PROPERTY = {"AWS::Scheduler::ScheduleGroup"}  # Ref gives the resource's Name
TRUST_POLICY_PROPERTIES = {"AssumeRolePolicyDocument"}


# ---------------------------------------------------------------- CloudFormation to policy JSON
class UnresolvableError(ValueError):
    """A value in a policy that the lint cannot turn into what a deployment would have."""


@dataclass(frozen=True)
class _Branches:
    """Both values of an `Fn::If` (either may be absent: `AWS::NoValue`)."""

    values: tuple[Any, ...]


_NO_VALUE = _Branches(())


class _Resolver:
    def __init__(self, template: dict[str, Any]) -> None:
        self._resources = template.get("Resources", {})
        self._parameters = template.get("Parameters", {})

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [item for value in node for item in _spread(self.resolve(value))]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, argument),) = node.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self._get_att(logical_id, attribute)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::If":
                return _Branches((self.resolve(argument[1]), self.resolve(argument[2])))
            if key.startswith("Fn::"):
                raise UnresolvableError(f"{key} in a policy: teach tests/unit/test_iam_lint.py to resolve it")
        resolved = {}
        for key, value in node.items():
            result = self.resolve(value)
            if isinstance(result, _Branches):
                values = _spread(result)
                if not values:
                    continue
                result = values[0] if len(values) == 1 else values
            resolved[key] = result
        return resolved

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self._parameters:
            value = LINT_PARAMETER_VALUES.get(name, self._parameters[name].get("Default", ""))
            if value == "":
                raise UnresolvableError(f"parameter {name} has no default: add it to LINT_PARAMETER_VALUES")
            return str(value)
        resource_type = self._resources.get(name, {}).get("Type")
        if resource_type in REF_IS_ARN:
            return self._arn(name)
        if resource_type in REF_IS_NAME_PROPERTY:
            return self.resolve(self._resources[name]["Properties"]["Name"])
        raise UnresolvableError(f"Ref {name} ({resource_type}) in a policy")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        if attribute != "Arn":
            raise UnresolvableError(f"GetAtt {logical_id}.{attribute} in a policy")
        return self._arn(logical_id)

    def _arn(self, logical_id: str) -> str:
        resource_type = self._resources.get(logical_id, {}).get("Type")
        if resource_type not in ARN_FORMATS:
            raise UnresolvableError(f"the ARN of {logical_id} ({resource_type}): add its type to ARN_FORMATS")
        return ARN_FORMATS[resource_type].format(
            region=PSEUDO_PARAMETERS["AWS::Region"],
            account=PSEUDO_PARAMETERS["AWS::AccountId"],
            name=f"{PSEUDO_PARAMETERS['AWS::StackName']}-{logical_id}".lower(),
        )

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {name: self.resolve(value) for name, value in variables.items()}

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                resolved = values[name]
            elif "." in name:
                resolved = self._get_att(*name.split(".", 1))
            else:
                resolved = self._ref(name)
            if not isinstance(resolved, str):
                raise UnresolvableError(f"${{{name}}} in {text!r} is not one string")
            return resolved

        return re.sub(r"\$\{([^}]+)\}", value, text)


def _spread(value: Any) -> list[Any]:
    """The values `value` stands for in a list: both branches of an `Fn::If`, none for `AWS::NoValue`."""
    if not isinstance(value, _Branches):
        return [value]
    spread: list[Any] = []
    for branch in value.values:
        for item in branch if isinstance(branch, list) else _spread(branch):
            if item not in spread:
                spread.append(item)
    return spread


def resolve_policy(document: Any, template: dict[str, Any]) -> dict[str, Any]:
    resolved = _Resolver(template).resolve(document)
    assert isinstance(resolved, dict)
    return resolved


class PolicyDocument(NamedTuple):
    location: str  # file:LogicalId/PolicyName (or /Property for a resource policy)
    document: dict[str, Any]


def policy_documents(template: dict[str, Any], file_name: str) -> Iterator[PolicyDocument]:
    """Every identity and resource policy document in `template` (already expanded), resolved."""
    for logical_id, resource in template.get("Resources", {}).items():
        for name, document in _documents_in(resource.get("Properties", {})):
            yield PolicyDocument(f"{file_name}:{logical_id}/{name}", resolve_policy(document, template))


def trust_policies(template: dict[str, Any]) -> list[str]:
    return [
        logical_id
        for logical_id, resource in template.get("Resources", {}).items()
        if TRUST_POLICY_PROPERTIES & set(resource.get("Properties", {}))
    ]


def _documents_in(node: Any, name: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        if "Statement" in node:
            yield name, node
            return
        for key, value in node.items():
            if key in TRUST_POLICY_PROPERTIES:
                continue
            if key == "Policies" and isinstance(value, list):
                for index, policy in enumerate(value):
                    policy_name = policy.get("PolicyName", f"Policies[{index}]")
                    yield from _documents_in(policy.get("PolicyDocument"), str(policy_name))
                continue
            yield from _documents_in(value, f"{name}/{key}" if name else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _documents_in(value, f"{name}[{index}]")


# ---------------------------------------------------------------- the lint
class Finding(NamedTuple):
    issue: str  # parliament's finding, e.g. RESOURCE_MISMATCH
    policy: str  # PolicyDocument.location
    statements: tuple[str, ...]  # Sids (or Statement[i]) of the statements it concerns; () for the policy
    subject: str  # the actions it names, or its detail

    def __str__(self) -> str:
        where = f"{self.policy} {', '.join(self.statements) or '(policy)'}"
        return f"{self.issue} {where}" + (f": {self.subject}" if self.subject else "")


def lint(documents: Iterable[PolicyDocument]) -> list[Finding]:
    findings = []
    for location, document in documents:
        statements = document.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        for finding in _analyze(document, statements, location):
            actions = _named_actions(finding.detail, finding.location)
            subject = ", ".join(actions) or str(finding.detail or finding.location.get("string", ""))
            concerned = _statements_of(finding.location, actions, statements)
            findings.append(Finding(finding.issue, location, concerned, subject))
    return sorted(set(findings))


def _analyze(document: dict[str, Any], statements: list[Any], location: str) -> list[Any]:
    # One statement a line, after a first line with the rest: a finding's line names its statement.
    header = "".join(
        f"{json.dumps(key)}: {json.dumps(value)}, " for key, value in document.items() if key != "Statement"
    )
    lines = [
        "{" + header + '"Statement": [',
        ",\n".join(json.dumps(statement) for statement in statements),
        "]}",
    ]
    policy = analyze_policy_string(
        "\n".join(lines), filepath=location, ignore_private_auditors=True, include_community_auditors=True
    )
    return list(policy.findings)


def _named_actions(detail: Any, location: dict[str, Any]) -> list[str]:
    """The actions a finding names (lower case, as parliament's auditors give them), if it names any."""
    if "actions" in location:
        named = location["actions"]
    elif isinstance(detail, list):
        named = [item["action"] if isinstance(item, dict) else item for item in detail]
    else:
        named = []
    return sorted({str(action).lower() for action in named})


def _sid(statements: list[Any], index: int) -> str:
    statement = statements[index]
    return str(statement.get("Sid", f"Statement[{index}]")) if isinstance(statement, dict) else str(index)


def _statements_of(location: dict[str, Any], actions: list[str], statements: list[Any]) -> tuple[str, ...]:
    line = location.get("line") or location.get("lineno")
    if line and 2 <= line < len(statements) + 2:
        return (_sid(statements, line - 2),)
    # A finding on the whole policy (the community auditors'): the Allow statements granting what it names.
    return tuple(
        _sid(statements, index)
        for index, statement in enumerate(statements)
        if isinstance(statement, dict)
        and statement.get("Effect") == "Allow"
        and set(actions) & _granted_actions(statement)
    )


def _granted_actions(statement: dict[str, Any]) -> set[str]:
    actions = statement.get("Action", [])
    granted = set()
    for action in actions if isinstance(actions, list) else [actions]:
        granted.add(str(action).lower())
        for expanded in expand_action(str(action), raise_exceptions=False):
            granted.add(f"{expanded['service']}:{expanded['action']}".lower())
    return granted


def project_policies() -> list[PolicyDocument]:
    return [
        *policy_documents(expanded_template(), TEMPLATE_PATH.name),
        *policy_documents(load_template(PRODUCT_PATH), f"{PRODUCT_PATH.parent.name}/{PRODUCT_PATH.name}"),
    ]


# ---------------------------------------------------------------- accepted findings (docs/security.md)
_TEMPLATE = TEMPLATE_PATH.name
_FUNCTIONS = (
    "ModelDeployerFunction",
    "MlflowAliasWatcherFunction",
    "EndpointTesterFunction",
    "SlackNotifierFunction",
    "ProjectLifecycleFunction",
    "EndpointReaperFunction",
    "ArtifactCopierFunction",
    "SlackApprovalsFunction",
)
_CI_POLICY = f"{_TEMPLATE}:ProjectCiPolicy/PolicyDocument"
_LIFECYCLE = f"{_TEMPLATE}:ProjectLifecycleFunctionRole/ProjectLifecycleFunctionRolePolicy0"
_PRINCIPAL_TAG_ARNS = (
    "the resource names the project with ${aws:PrincipalTag/mlops:project}, whose colons parliament "
    "reads as ARN separators"
)
ACCEPTED: dict[Finding, str] = {
    Finding(
        "RESOURCE_MISMATCH",
        _CI_POLICY,
        ("ProjectPipelines",),
        "sagemaker:createpipeline, sagemaker:describepipeline, sagemaker:describepipelineexecution, "
        "sagemaker:listpipelineexecutionsteps, sagemaker:startpipelineexecution, sagemaker:updatepipeline",
    ): _PRINCIPAL_TAG_ARNS,
    Finding(
        "RESOURCE_MISMATCH", _CI_POLICY, ("RegisterProjectVersions",), "sagemaker:describemodelpackagegroup"
    ): _PRINCIPAL_TAG_ARNS,
    Finding("RESOURCE_MISMATCH", _CI_POLICY, ("ProjectArtifacts",), "s3:getobject, s3:putobject"): (
        _PRINCIPAL_TAG_ARNS
    ),
    Finding(
        "PERMISSIONS_MANAGEMENT_ACTIONS", _CI_POLICY, ("PassThePipelineRoleToSageMaker",), "iam:passrole"
    ): "passes the one execution role given as a parameter, to SageMaker only",
    Finding(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        _LIFECYCLE,
        ("CreateBoundedCiRoles", "AttachOnlyTheCiPolicy", "PassTheTriggerRoleToEventBridge"),
        "iam:attachrolepolicy, iam:createrole, iam:deleterole, iam:detachrolepolicy, iam:passrole, "
        "iam:updateassumerolepolicy",
    ): "the projects' CI roles: under the stack's path only, with the stack's CI policy as their boundary "
    "and the only policy attached; the CodeCommit trigger's one role, to EventBridge only",
    Finding(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        f"{_TEMPLATE}:CodeCommitBuildTriggerRole/start-project-builds",
        ("PassProjectCiRolesToCodeBuild",),
        "iam:passrole",
    ): "a CodeCommit project's build runs as its CI role: the stack's CI roles only, to CodeBuild only",
    **{
        Finding(
            "UNKNOWN_CONDITION_FOR_ACTION",
            _LIFECYCLE,
            ("CreateBoundedCiRoles",),
            f"Unknown condition iam:PermissionsBoundary for action iam:{action}",
        ): "newer than parliament's bundled IAM definition (the Service Authorization Reference lists it)"
        for action in ("DeleteRole", "UpdateAssumeRolePolicy")
    },
    **{
        Finding(
            "NO_VERSION", f"{_TEMPLATE}:{function}Role/{function}EventInvokeConfigOnFailureSQSPolicy", (), ""
        ): "SAM generates the on-failure destination's policy without a Version; it uses no policy variables"
        for function in _FUNCTIONS
    },
    Finding(
        "RESOURCE_MISMATCH",
        f"{_TEMPLATE}:ModelDeployerFunctionRole/ModelDeployerFunctionRolePolicy0",
        ("CreateModelsFromRegistryVersions",),
        "sagemaker:createmodel",
    ): "SageMaker authorises CreateModel from a model version against the version too",
    Finding(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        f"{_TEMPLATE}:ModelDeployerFunctionRole/ModelDeployerFunctionRolePolicy0",
        (
            "PassExecutionRoleToSageMaker",
            "PassBatchSchedulerRoleToScheduler",
            "PassInServiceCheckRoleToScheduler",
            "AutoscalingServiceLinkedRole",
        ),
        "iam:createservicelinkedrole, iam:passrole",
    ): "passes the one execution role given as a parameter, to SageMaker only, and the batch schedules' "
    "role, to EventBridge Scheduler only; creates Application Auto Scaling's service-linked role for "
    "SageMaker endpoints only",
    Finding(
        "UNKNOWN_ACTION",
        f"{_TEMPLATE}:MlflowAliasWatcherFunctionRole/MlflowAliasWatcherFunctionRolePolicy0",
        ("SageMakerManagedMlflowRegistry",),
        "Unknown action sagemaker-mlflow:GetLoggedModel",
    ): "newer than parliament's bundled IAM definition (cfn-lint's knows it)",
    Finding(
        "CREDENTIALS_EXPOSURE",
        f"{_TEMPLATE}:ArtifactCopierFunctionRole/ArtifactCopierFunctionRolePolicy0",
        ("PromoteIntoOtherAccounts",),
        "sts:assumerole",
    ): "promotion into other accounts assumes their PromotionRoleNamePattern roles",
    Finding(
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        f"{_TEMPLATE}:ProjectLaunchRole/launch-sagemaker-project",
        ("ProductStacks",),
        "cloudformation:setstackpolicy",
    ): "Service Catalog sets the stack policy of the product's stacks (SC-*)",
    Finding(
        "RESOURCE_STAR",
        f"{_TEMPLATE}:ProjectLaunchRole/launch-sagemaker-project",
        ("ProductTemplate",),
        "s3:getobject",
    ): "the product template is in a bucket Service Catalog owns; only objects it tags for provisioning",
}


# ---------------------------------------------------------------- the project's policies
@pytest.fixture(scope="module")
def documents() -> list[PolicyDocument]:
    return project_policies()


def test_every_finding_on_the_projects_policies_is_accepted_and_every_acceptance_still_applies(documents):
    findings = set(lint(documents))
    assert sorted(map(str, findings - set(ACCEPTED))) == [], "unaccepted findings (docs/security.md)"
    assert sorted(map(str, set(ACCEPTED) - findings)) == [], "acceptances that match no finding: remove them"


def test_the_lint_reads_every_identity_managed_and_resource_policy(documents):
    resources = expanded_template()["Resources"]
    roles = {name for name, resource in resources.items() if resource["Type"] == "AWS::IAM::Role"}
    functions = {name for name, resource in resources.items() if resource["Type"] == "AWS::Lambda::Function"}
    assert functions == set(_FUNCTIONS), "a new function: add it to _FUNCTIONS (its on-failure policy)"
    assert roles == {f"{name}Role" for name in functions} | {
        "ProjectLaunchRole",
        "BatchSchedulerRole",
        "InServiceCheckSchedulerRole",
        "CodeCommitBuildProjectRole",
        "CodeCommitBuildTriggerRole",
    }
    managed_policies = {
        name for name, resource in resources.items() if resource["Type"] == "AWS::IAM::ManagedPolicy"
    }
    assert managed_policies  # the statements several functions share
    resource_policies = {
        name
        for name, resource in resources.items()
        if "PolicyDocument" in resource["Properties"] and name not in managed_policies
    }
    assert "FailedEventsQueuePolicy" in resource_policies
    inline = sum(len(resources[name]["Properties"].get("Policies", [])) for name in roles)
    assert len(documents) == inline + len(managed_policies) + len(resource_policies)
    assert {
        location.split(":", 1)[1].split("/", 1)[0] for location, _ in documents
    } == roles | managed_policies | resource_policies
    assert set(trust_policies({"Resources": resources})) == roles  # left to checkov
    product = load_template(PRODUCT_PATH)
    assert list(policy_documents(product, "product")) == [] and trust_policies(product) == []


def test_every_accepted_finding_is_justified_in_the_security_doc():
    doc = SECURITY_DOC.read_text()
    section = doc[doc.index("## IAM policy lint") :]
    for finding in ACCEPTED:
        assert f"`{finding.issue}`" in section, finding
        for sid in finding.statements:
            assert f"`{sid}`" in section, finding


def test_an_action_accepted_as_unknown_is_known_to_cfn_lints_newer_iam_definition():
    """parliament's bundled definition lags AWS; an action it does not know is accepted only when cfn-lint's
    (refreshed from AWS's service reference with each release) knows it, so a typo is never accepted."""
    known = load_resource(AdditionalSpecs, "Policies.json")
    unknown = [f.subject.rsplit(" ", 1)[-1] for f in ACCEPTED if f.issue == "UNKNOWN_ACTION"]
    assert unknown
    for action in unknown:
        service, name = action.lower().split(":", 1)
        assert name in known[service]["Actions"], action


# ---------------------------------------------------------------- the lint on synthetic policies
def _template(statements: list[Any], resources: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "Parameters": {
            "Empty": {"Type": "String", "Default": ""},
            "Bucket": {"Type": "String", "Default": "b"},
        },
        "Conditions": {"C": {"Fn::Equals": ["a", "b"]}},
        "Resources": {
            **(resources or {}),
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]
                    },
                    "Policies": [
                        {
                            "PolicyName": "p",
                            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                        }
                    ],
                },
            },
        },
    }


def _findings(statements: list[Any], resources: dict[str, Any] | None = None) -> list[tuple[str, ...]]:
    found = lint(policy_documents(_template(statements, resources), "t"))
    return [(f.issue, *f.statements, f.subject) for f in found]


QUEUE = {"Queue": {"Type": "AWS::SQS::Queue"}}


def test_a_clean_statement_has_no_finding():
    assert (
        _findings(
            [
                {
                    "Sid": "S",
                    "Effect": "Allow",
                    "Action": "sqs:SendMessage",
                    "Resource": {"Fn::GetAtt": "Queue.Arn"},
                }
            ],
            QUEUE,
        )
        == []
    )


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            {"Action": "sagemaker:DescribeEndpionts", "Resource": "*"},
            ("UNKNOWN_ACTION", "S", "Unknown action sagemaker:DescribeEndpionts"),
        ),
        (
            {"Action": "s3:GetObject", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}"}},
            ("RESOURCE_MISMATCH", "S", "s3:getobject"),
        ),
        (
            {
                "Action": "sqs:SendMessage",
                "Resource": {"Fn::GetAtt": ["Queue", "Arn"]},
                "Condition": {"StringEquals": {"sagemaker:TaggingAction": "CreateModel"}},
            },
            (
                "UNKNOWN_CONDITION_FOR_ACTION",
                "S",
                "Unknown condition sagemaker:TaggingAction for action sqs:SendMessage",
            ),
        ),
        (
            {"Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/r"},
            ("PERMISSIONS_MANAGEMENT_ACTIONS", "S", "iam:passrole"),
        ),
    ],
    ids=["unknown action", "resource mismatch", "unknown condition key", "permissions management"],
)
def test_the_lint_reports_each_kind_of_finding_on_its_statement(statement, expected):
    found = _findings(
        [
            {"Sid": "Other", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"},
            {"Sid": "S", "Effect": "Allow", **statement},
        ],
        QUEUE,
    )
    assert expected in found
    assert all("Other" not in finding[1:-1] for finding in found if finding[0] != "RESOURCE_STAR")


def test_an_acceptance_covers_its_statement_only():
    pass_role = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/r"}
    one = _findings([{"Sid": "A", **pass_role}])
    two = _findings([{"Sid": "A", **pass_role}, {"Sid": "B", **pass_role}])
    assert one == [("PERMISSIONS_MANAGEMENT_ACTIONS", "A", "iam:passrole")]
    assert two == [("PERMISSIONS_MANAGEMENT_ACTIONS", "A", "B", "iam:passrole")]


def test_both_branches_of_a_condition_are_linted_and_no_value_drops_out():
    arn = "arn:aws:sqs:us-east-1:123456789012:"
    statement = {
        "Sid": "S",
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": [
            {"Fn::If": ["C", f"{arn}a", {"Ref": "AWS::NoValue"}]},
            {"Fn::If": ["C", [f"{arn}b", f"{arn}c"], f"{arn}d"]},
        ],
        "Condition": {
            "StringEquals": {
                "aws:ResourceAccount": {"Fn::If": ["C", "111111111111", {"Ref": "AWS::AccountId"}]}
            }
        },
    }
    ((_, document),) = policy_documents(_template([statement]), "t")
    (resolved,) = document["Statement"]
    assert resolved["Resource"] == [f"{arn}a", f"{arn}b", f"{arn}c", f"{arn}d"]
    assert resolved["Condition"] == {"StringEquals": {"aws:ResourceAccount": ["111111111111", ACCOUNT]}}
    whole = {**statement, "Resource": {"Fn::If": ["C", f"{arn}a", f"{arn}b"]}}
    ((_, document),) = policy_documents(
        _template([whole, {"Fn::If": ["C", statement, {"Ref": "AWS::NoValue"}]}]), "t"
    )
    assert document["Statement"][0]["Resource"] == [f"{arn}a", f"{arn}b"]
    assert len(document["Statement"]) == 2


def test_resources_resolve_to_their_arns_and_unknown_shapes_are_refused():
    resources = {"Table": {"Type": "AWS::DynamoDB::Table"}, "Secret": {"Type": "AWS::SecretsManager::Secret"}}
    statement = {
        "Effect": "Allow",
        "Action": "dynamodb:GetItem",
        "Resource": [
            {"Fn::GetAtt": ["Table", "Arn"]},
            {"Fn::Sub": "${Table.Arn}/index/*"},
            {"Ref": "Secret"},
        ],
    }
    ((_, document),) = policy_documents(_template([statement], resources), "t")
    assert document["Statement"][0]["Resource"] == [
        "arn:aws:dynamodb:us-east-1:123456789012:table/mlops-table",
        "arn:aws:dynamodb:us-east-1:123456789012:table/mlops-table/index/*",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:mlops-secret-AbCdEf",
    ]
    for resource in (
        {"Ref": "Empty"},
        {"Ref": "Table"},
        {"Fn::GetAtt": ["Table", "StreamArn"]},
        {"Fn::ImportValue": "x"},
        {"Fn::GetAtt": ["Unknown", "Arn"]},
    ):
        with pytest.raises(UnresolvableError):
            list(policy_documents(_template([{**statement, "Resource": resource}], resources), "t"))


def _report(findings: list[Finding]) -> int:
    unaccepted = [f for f in findings if f not in ACCEPTED]
    stale = [f for f in ACCEPTED if f not in findings]
    for finding in findings:
        mark = f"accepted: {ACCEPTED[finding]}" if finding in ACCEPTED else "NOT ACCEPTED"
        print(f"{finding}\n    {mark}")
    for finding in stale:
        print(f"{finding}\n    ACCEPTED BUT NOT FOUND: remove it from ACCEPTED and docs/security.md")
    print(
        f"parliament {parliament.__version__}: {len(findings)} findings, {len(unaccepted)} not accepted, "
        f"{len(stale)} stale acceptances"
    )
    return 1 if unaccepted or stale else 0


if __name__ == "__main__":  # `make security`
    sys.exit(_report(lint(project_policies())))
