"""A CodeCommit project's CI access: its role trusts CodeBuild for the stack's shared project only, and its
push trigger (an EventBridge rule per project) starts that project with the role and the CI variables;
a repeated Create changes nothing, a rule that is not this stack's is never touched, and removal is
idempotent."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from mlops_core.adapters.ci_build_triggers import EventBridgeCiBuildTriggers, event_pattern, input_transformer
from mlops_core.adapters.iam_ci_roles import trust_policy
from mlops_core.projects.ci_access import CI_VARIABLE_NAMES, CiAccess, CiEnvironment
from mlops_core.projects.ports import BuildSource, CiAccessError, CiServiceTrust, CiTrust
from moto import mock_aws

ACCOUNT, REGION = "123456789012", "us-east-1"
PROJECT_ARN = f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/mlops-codecommit-ci"
TRIGGER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlops-CodeCommitBuildTriggerRole-X"
CI_ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlops-ci/mlops/mlops-ci-churn"
SOURCE = BuildSource(
    f"arn:aws:codecommit:{REGION}:{ACCOUNT}:churn",
    "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/churn",
)
CODEBUILD_TRUST = CiServiceTrust("codebuild.amazonaws.com", PROJECT_ARN, ACCOUNT)
ENVIRONMENT = CiEnvironment(REGION, "arn:aws:iam::123456789012:role/sm", "bucket", "bus", "table")


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("events", region_name=REGION)


def triggers(client: Any, stack: str = "mlops") -> EventBridgeCiBuildTriggers:
    return EventBridgeCiBuildTriggers(
        client,
        build_project_arn=PROJECT_ARN,
        trigger_role_arn=TRIGGER_ROLE,
        stack_name=stack,
        account_id=ACCOUNT,
    )


def test_a_service_trust_admits_only_the_service_for_that_resource_of_this_account():
    (statement,) = trust_policy(CiServiceTrust("codebuild.amazonaws.com", PROJECT_ARN, ACCOUNT))["Statement"]

    assert statement["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnEquals": {"aws:SourceArn": PROJECT_ARN},
    }


def test_the_trigger_targets_the_shared_project_with_the_commit_role_and_variables(events):
    variables = {"MLOPS_PROJECT": "churn", "AWS_CI_ROLE_ARN": CI_ROLE}

    assert triggers(events).ensure_trigger("churn", SOURCE, CI_ROLE, variables) == "mlops-ci-churn"

    rule = events.describe_rule(Name="mlops-ci-churn")
    assert json.loads(rule["EventPattern"]) == event_pattern(SOURCE.repository_arn)
    (target,) = events.list_targets_by_rule(Rule="mlops-ci-churn")["Targets"]
    assert (target["Arn"], target["RoleArn"]) == (PROJECT_ARN, TRIGGER_ROLE)
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == {"commit": "$.detail.commitId", "branch": "$.detail.referenceName"}
    template = json.loads(transformer["InputTemplate"])
    assert template["sourceVersion"] == "<commit>"
    assert template["serviceRoleOverride"] == CI_ROLE
    assert (template["sourceTypeOverride"], template["sourceLocationOverride"]) == (
        "CODECOMMIT",
        SOURCE.clone_url,
    )
    assert template["environmentVariablesOverride"] == [
        {"name": "BRANCH", "value": "<branch>", "type": "PLAINTEXT"},
        {"name": "MLOPS_PROJECT", "value": "churn", "type": "PLAINTEXT"},
        {"name": "AWS_CI_ROLE_ARN", "value": CI_ROLE, "type": "PLAINTEXT"},
    ]


def test_a_repeated_trigger_changes_nothing_and_removal_is_idempotent(events):
    adapter = triggers(events)
    adapter.ensure_trigger("churn", SOURCE, CI_ROLE, {})
    adapter.ensure_trigger("churn", SOURCE, CI_ROLE, {})

    assert len(events.list_targets_by_rule(Rule="mlops-ci-churn")["Targets"]) == 1
    assert [rule["Name"] for rule in events.list_rules()["Rules"]] == ["mlops-ci-churn"]
    assert adapter.remove_trigger("churn") == "deleted"
    assert adapter.remove_trigger("churn") == "absent"
    assert events.list_rules()["Rules"] == []


def test_a_rule_of_that_name_that_is_not_this_stacks_is_never_touched(events):
    events.put_rule(Name="mlops-ci-churn", EventPattern=json.dumps({"source": ["x"]}))
    triggers(events, stack="other").ensure_trigger("beta", SOURCE, CI_ROLE, {})  # another stack's own rule

    with pytest.raises(CiAccessError, match="not this stack's CI trigger"):
        triggers(events).ensure_trigger("churn", SOURCE, CI_ROLE, {})
    with pytest.raises(CiAccessError, match="not this stack's CI trigger"):
        triggers(events).remove_trigger("beta")
    assert json.loads(events.describe_rule(Name="mlops-ci-churn")["EventPattern"]) == {"source": ["x"]}
    assert events.list_targets_by_rule(Rule="mlops-ci-beta")["Targets"]


def test_a_value_that_would_read_as_a_placeholder_is_refused():
    with pytest.raises(CiAccessError, match="input template"):
        input_transformer(BuildSource("arn", "https://host/<x>"), CI_ROLE, {})


# ------------------------------------------------------------------------------------ the use case


@dataclass
class FakeRoles:
    trusts: dict[str, Any] = field(default_factory=dict)

    def ensure_ci_role(self, project: str, trust: CiTrust | CiServiceTrust) -> str:
        self.trusts[project] = trust
        return CI_ROLE

    def delete_ci_role(self, project: str) -> str:
        return "deleted" if self.trusts.pop(project, None) else "absent"


@dataclass
class FakeTriggers:
    trust: CiServiceTrust = CODEBUILD_TRUST
    triggers: dict[str, tuple[BuildSource, str, Mapping[str, str]]] = field(default_factory=dict)

    def ensure_trigger(
        self, project: str, source: BuildSource, role_arn: str, variables: Mapping[str, str]
    ) -> str:
        self.triggers[project] = (source, role_arn, variables)
        return f"mlops-ci-{project}"

    def remove_trigger(self, project: str) -> str:
        return "deleted" if self.triggers.pop(project, None) else "absent"


class FakeCodeCommit:
    name = "codecommit"

    def build_source(self, repository: str) -> BuildSource:
        return SOURCE


def test_a_codecommit_project_gets_a_role_trusting_codebuild_and_a_trigger_and_loses_both():
    roles, builds = FakeRoles(), FakeTriggers()
    access = CiAccess(ENVIRONMENT, roles, builds)

    assert access.configure(FakeCodeCommit(), "churn", "churn") == CI_ROLE  # type: ignore[arg-type]

    assert roles.trusts["churn"] == builds.trust
    source, role, variables = builds.triggers["churn"]
    assert (source, role) == (SOURCE, CI_ROLE)
    assert tuple(variables) == CI_VARIABLE_NAMES
    assert access.remove(FakeCodeCommit(), "churn", "churn") == "CI trigger deleted; CI role deleted"  # type: ignore[arg-type]
    assert (roles.trusts, builds.triggers) == ({}, {})


def test_without_the_shared_project_a_codecommit_project_gets_no_ci_access():
    roles = FakeRoles()
    access = CiAccess(ENVIRONMENT, roles)

    assert access.configure(FakeCodeCommit(), "churn", "churn") is None  # type: ignore[arg-type]
    assert access.remove(FakeCodeCommit(), "churn", "churn") is None  # type: ignore[arg-type]
    assert roles.trusts == {}
