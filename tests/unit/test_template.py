"""Properties of template.yaml that the code relies on, read from the template as CloudFormation receives it:
after the SAM transform (`expanded_template`), so that what Globals give every function and the roles, rules
and invoke configs SAM generates are checked as deployed. The wiring itself is tested end to end.
"""

from __future__ import annotations

from typing import Any

import pytest
from mlops_core.catalog import CATALOG
from mlops_core.contract.project_record import PROJECTS_BY_REGISTRY_INDEX
from mlops_core.observability import SERVICE_NAME
from mlops_local.cfn_yaml import load_template

from tests.unit.test_template_iam import TEMPLATE_PATH, expanded_template

# The functions' logical IDs are the same before and after the transform.
FUNCTIONS = sorted(
    name
    for name, resource in load_template(TEMPLATE_PATH)["Resources"].items()
    if resource["Type"] == "AWS::Serverless::Function"
)
FAILED_EVENTS_QUEUE_ARN = {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}
# What EventBridge does for a rule target without a RetryPolicy (EventBridge user guide, "How EventBridge
# retries delivering events": 24 hours and up to 185 times).
EVENTBRIDGE_DEFAULT_RETRY_POLICY = {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return expanded_template()["Resources"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def attached_template_policies(resources: dict[str, Any], function: str) -> list[str]:
    """The template's own managed policies that a function's execution role attaches."""
    role = resources[resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
    return [arn["Ref"] for arn in role.get("ManagedPolicyArns", []) if isinstance(arn, dict) and "Ref" in arn]


def role_statements(resources: dict[str, Any], function: str, *, shared: bool = True) -> list[dict[str, Any]]:
    """Every statement of a function's execution role: its inline policies and (unless `shared` is False)
    the template's own managed policies it attaches."""
    role = resources[resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
    documents = [policy["PolicyDocument"] for policy in role.get("Policies", [])]
    if shared:
        documents += [
            resources[policy]["Properties"]["PolicyDocument"]
            for policy in attached_template_policies(resources, function)
        ]
    return [statement for document in documents for statement in _as_list(document["Statement"])]


def test_every_sam_function_is_deployed_as_a_lambda_function(resources):
    deployed = sorted(
        name for name, resource in resources.items() if resource["Type"] == "AWS::Lambda::Function"
    )
    assert deployed == FUNCTIONS


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_run_python_313_on_arm64_traced_with_the_shared_layer(resources, name):
    function = resources[name]["Properties"]
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["TracingConfig"] == {"Mode": "Active"}
    # SAM names a layer version after its resource and a hash of its content.
    core_layer = function["Layers"][0]["Ref"]
    assert core_layer.startswith("CoreLayer")
    assert resources[core_layer]["Type"] == "AWS::Lambda::LayerVersion"
    assert resources[core_layer]["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert resources[core_layer]["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert function["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == SERVICE_NAME


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_has_a_log_group_with_retention_and_an_on_failure_destination(resources, name):
    function = resources[name]["Properties"]
    log_group = resources[function["LoggingConfig"]["LogGroup"]["Ref"]]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    (invoke_config,) = [
        resource["Properties"]
        for resource in resources.values()
        if resource["Type"] == "AWS::Lambda::EventInvokeConfig"
        and resource["Properties"]["FunctionName"] == {"Ref": name}
    ]
    assert invoke_config["DestinationConfig"]["OnFailure"] == {"Destination": FAILED_EVENTS_QUEUE_ARN}
    # The role may send there (SAM adds the statement for an SQS destination).
    assert any(
        statement["Action"] == "sqs:SendMessage" and statement["Resource"] == FAILED_EVENTS_QUEUE_ARN
        for statement in role_statements(resources, name)
    )


def test_every_rule_target_dead_letters_to_the_failed_events_queue_and_says_only_what_differs(resources):
    targets = [
        (name, target)
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Events::Rule"
        for target in resource["Properties"]["Targets"]
    ]
    assert len(targets) >= len(FUNCTIONS)
    for name, target in targets:
        assert target["DeadLetterConfig"] == {"Arn": FAILED_EVENTS_QUEUE_ARN}, name
        retry_policy = target.get("RetryPolicy")
        if retry_policy is not None:  # a shorter one: no copy of EventBridge's default
            assert retry_policy.keys() == EVENTBRIDGE_DEFAULT_RETRY_POLICY.keys(), name
            assert retry_policy != EVENTBRIDGE_DEFAULT_RETRY_POLICY, name
            assert all(retry_policy[key] <= limit for key, limit in EVENTBRIDGE_DEFAULT_RETRY_POLICY.items())


def test_no_function_repeats_inline_a_statement_of_a_shared_managed_policy(resources):
    shared = {
        name: _as_list(resource["Properties"]["PolicyDocument"]["Statement"])
        for name, resource in resources.items()
        # The projects' CI policy is no function's: the project lifecycle attaches it to the CI roles.
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and name != "ProjectCiPolicy"
    }
    assert shared

    def grant(statement: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in statement.items() if key != "Sid"}

    shared_grants = [grant(statement) for statements in shared.values() for statement in statements]
    for name in FUNCTIONS:
        for statement in role_statements(resources, name, shared=False):
            assert grant(statement) not in shared_grants, (name, statement.get("Sid"))
    for policy in shared:
        users = [name for name in FUNCTIONS if policy in attached_template_policies(resources, name)]
        assert len(users) >= 2, f"{policy} is attached to {users}: a statement of one function is inline"


def test_a_function_with_a_public_url_reserves_concurrency(resources):
    """A flood of requests to a URL anyone can call must not take the account's concurrency from the other
    functions (.checkov.yaml skips checkov's reserved-concurrency check for the functions EventBridge calls)."""
    public = [
        resource["Properties"]["TargetFunctionArn"]["Ref"]
        for resource in resources.values()
        if resource["Type"] == "AWS::Lambda::Url" and resource["Properties"]["AuthType"] == "NONE"
    ]
    assert sorted(public) == ["MlflowAliasWatcherFunction", "SlackApprovalsFunction"]
    for function, condition, parameter in [
        ("MlflowAliasWatcherFunction", "ReservesWatcherConcurrency", "MlflowWatcherReservedConcurrency"),
        ("SlackApprovalsFunction", "ReservesSlackApprovalsConcurrency", "SlackApprovalsReservedConcurrency"),
    ]:
        reserved = resources[function]["Properties"]["ReservedConcurrentExecutions"]
        # The parameter (by default some) unless it is 0, for an account that cannot spare any.
        assert reserved == {"Fn::If": [condition, {"Ref": parameter}, {"Ref": "AWS::NoValue"}]}
        assert load_template(TEMPLATE_PATH)["Parameters"][parameter]["Default"] > 0


# Statements that cannot carry a mlops:managed-by condition, and why. Model versions are registered by
# the projects' pipelines, not by the stack, so they carry no stack tag; the tester records its outcome
# on them (CustomerMetadataProperties) and may reject a failing feature/dev version.
# Model versions have no tags of their own (CreateModelPackage refuses Tags with a group): these grants
# are scoped by the {project}-{stage} group names instead (and, for Slack, by the approval status).
UNTAGGED_MUTATIONS_ALLOWED = {
    ("EndpointTesterFunction", "RecordOutcomeOnModelVersions"),
    ("SlackApprovalsFunction", "ApproveOrRejectModelVersions"),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_no_sagemaker_mutation_is_granted_without_a_tag_condition(resources, name):
    for statement in role_statements(resources, name):
        if (name, statement.get("Sid")) in UNTAGGED_MUTATIONS_ALLOWED:
            assert statement["Action"] == "sagemaker:UpdateModelPackage", statement["Sid"]
            continue
        mutating = [
            action
            for action in _as_list(statement["Action"])
            if action.startswith("sagemaker:")
            and not action.split(":")[1].startswith(("Describe", "List", "Get", "Search"))
        ]
        if mutating:
            conditions = statement.get("Condition", {}).get("StringEquals", {})
            assert any(key.endswith("/mlops:managed-by") for key in conditions), statement["Sid"]


def test_the_copier_registers_copies_only_in_production_groups_that_are_its_stacks(resources):
    granted = {
        statement["Sid"]: statement
        for statement in role_statements(resources, "ArtifactCopierFunction")
        if "Sid" in statement
    }
    managed_by = {"Ref": "AWS::StackName"}
    # A version uses its group's tags (CreateModelPackage takes no Tags with a group), so the copy is
    # scoped by the tag of the group it is registered in, not by tags in the request.
    register = granted["RegisterCopiesOnlyInThisStacksProductionGroups"]
    assert register["Action"] == "sagemaker:CreateModelPackage"
    assert register["Condition"] == {"StringEquals": {"aws:ResourceTag/mlops:managed-by": managed_by}}
    create = granted["CreateOnlyTaggedProductionGroups"]
    assert create["Action"] == "sagemaker:CreateModelPackageGroup"
    assert create["Condition"] == {"StringEquals": {"aws:RequestTag/mlops:managed-by": managed_by}}
    tag_on_create = granted["TagProductionGroupsOnCreate"]
    assert tag_on_create["Action"] == "sagemaker:AddTags"
    assert tag_on_create["Condition"] == {
        "StringEquals": {
            "sagemaker:TaggingAction": "CreateModelPackageGroup",
            "aws:RequestTag/mlops:managed-by": managed_by,
        }
    }
    assert granted["ReadTheOwnerOfProductionGroups"]["Action"] == "sagemaker:ListTags"
    for statement in (register, create, tag_on_create):
        groups = [arn["Fn::Sub"].rsplit(":", 1)[1] for arn in statement["Resource"]]
        assert all(group.endswith(("-prod", "-champion", "-challenger", "/*")) for group in groups), groups


def test_the_reapers_reports_bucket_is_private_encrypted_tagged_and_expires_its_reports(resources):
    bucket = resources["ReaperReportBucket"]["Properties"]
    [encryption] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert {"Key": "mlops:managed-by", "Value": {"Ref": "AWS::StackName"}} in bucket["Tags"]
    expiry = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}["ExpireReports"]
    assert expiry == {
        "Id": "ExpireReports",
        "Status": "Enabled",
        "Prefix": "endpoints-reaped/",
        "ExpirationInDays": {"Ref": "LogRetentionDays"},
    }
    # The reaper writes reports under that prefix, and nothing else there (nor reads them).
    grants = [
        statement
        for statement in role_statements(resources, "EndpointReaperFunction")
        if any(str(action).startswith("s3:") for action in _as_list(statement["Action"]))
    ]
    assert grants == [
        {
            "Sid": "StoreFullReports",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": {"Fn::Sub": "${ReaperReportBucket.Arn}/endpoints-reaped/*"},
        }
    ]
    environment = resources["EndpointReaperFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["REAPER_REPORT_BUCKET"] == {"Ref": "ReaperReportBucket"}


def test_the_config_tables_projects_by_registry_index_is_what_the_watcher_queries(resources):
    table = resources["ConfigTable"]["Properties"]
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == PROJECTS_BY_REGISTRY_INDEX
    assert index["KeySchema"][0] == {"AttributeName": "registry_backend", "KeyType": "HASH"}
    assert index["Projection"] == {"ProjectionType": "ALL"}
    [query] = [
        s
        for s in role_statements(resources, "MlflowAliasWatcherFunction")
        if s.get("Sid") == "FindMlflowProjects"
    ]
    assert query["Action"] == "dynamodb:Query"
    assert query["Resource"] == {"Fn::Sub": f"${{ConfigTable.Arn}}/index/{PROJECTS_BY_REGISTRY_INDEX}"}


def test_the_slack_notifiers_rule_leaves_out_exactly_the_domain_events_that_are_not_announced():
    # The catalog's ANNOUNCED says which domain events are news; the rule decides what reaches Slack.
    # A new timer-like event left out of the rule would post to Slack (or fail to render and be retried).
    pattern = load_template(TEMPLATE_PATH)["Resources"]["SlackNotifierFunction"]["Properties"]["Events"][
        "DomainEvents"
    ]["Properties"]["Pattern"]
    [left_out] = pattern["detail-type"]
    assert set(left_out["anything-but"]) == {event.DETAIL_TYPE for event in CATALOG if not event.ANNOUNCED}
