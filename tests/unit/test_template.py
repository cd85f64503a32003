"""Properties of template.yaml that the code relies on (the wiring itself is tested end to end)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlops_core.observability import SERVICE_NAME
from mlops_local.cfn_yaml import load_template

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
FUNCTIONS = {
    name: resource["Properties"]
    for name, resource in TEMPLATE["Resources"].items()
    if resource["Type"] == "AWS::Serverless::Function"
}


def test_functions_run_python_313_on_arm64_traced_with_the_shared_layer():
    function_globals = TEMPLATE["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["Tracing"] == "Active"
    assert function_globals["Layers"] == [{"Ref": "CoreLayer"}]
    assert function_globals["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == SERVICE_NAME


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_has_a_log_group_with_retention_and_an_on_failure_destination(name):
    properties = FUNCTIONS[name]
    log_group = TEMPLATE["Resources"][properties["LoggingConfig"]["LogGroup"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    on_failure = properties["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}}


# Statements that cannot carry a mlops:managed-by condition, and why. Model versions are registered by
# the projects' pipelines, not by the stack, so they carry no stack tag; the tester records its outcome
# on them (CustomerMetadataProperties) and may reject a failing feature/dev version.
UNTAGGED_MUTATIONS_ALLOWED = {("EndpointTesterFunction", "RecordOutcomeOnModelVersions")}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_no_sagemaker_mutation_is_granted_without_a_tag_condition(name):
    for policy in FUNCTIONS[name].get("Policies", []):
        for statement in policy["Statement"]:
            if (name, statement.get("Sid")) in UNTAGGED_MUTATIONS_ALLOWED:
                assert statement["Action"] == "sagemaker:UpdateModelPackage", statement["Sid"]
                continue
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            mutating = [
                a
                for a in actions
                if a.startswith("sagemaker:")
                and not a.split(":")[1].startswith(("Describe", "List", "Get", "Search"))
            ]
            if mutating:
                conditions = statement.get("Condition", {}).get("StringEquals", {})
                assert any(key.endswith("/mlops:managed-by") for key in conditions), statement["Sid"]


def test_the_copier_registers_copies_only_in_production_groups_that_are_its_stacks():
    granted = {
        statement["Sid"]: statement
        for policy in FUNCTIONS["ArtifactCopierFunction"]["Policies"]
        for statement in policy["Statement"]
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
