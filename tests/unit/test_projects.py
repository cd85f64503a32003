"""Project properties (validated before anything is created), model group names, the project record."""

from __future__ import annotations

import boto3
import pytest
from mlops_core.adapters.project_store import ProjectStore
from mlops_core.contract.deployment_settings import InstanceCompute, ServerlessCompute
from mlops_core.contract.project_record import (
    GitProviderName,
    ModelGroupRetention,
    ProjectProperties,
    ProjectRecord,
    RegistryBackend,
    RepositoryRetention,
    model_group_names,
)
from mlops_core.contract.topology import Scenario, Stage
from moto import mock_aws
from pydantic import ValidationError

BASE = {"SageMakerProjectName": "churn", "SageMakerProjectId": "p-abc123", "ServiceToken": "arn:..."}


def test_properties_default_to_a_baseline_sagemaker_project_whose_repository_is_named_after_it():
    properties = ProjectProperties.model_validate(BASE)
    assert properties.scenario is Scenario.BASELINE
    assert properties.registry_backend is RegistryBackend.SAGEMAKER
    assert properties.repository_name == "churn"
    assert properties.git_provider is None  # the stack's DefaultGitProvider applies
    assert properties.repository_retention is RepositoryRetention.RETAIN
    assert properties.model_group_retention is ModelGroupRetention.RETAIN


def test_cloudformation_strings_are_parsed_and_blanks_mean_unset():
    properties = ProjectProperties.model_validate(
        {
            **BASE,
            "Scenario": "advanced",
            "GitProvider": "",
            "RepositoryName": "churn-model",
            "SlackWebhookSecret": " ",
            "DeploymentDefaults": '{"champion": {"instance_type": "ml.c5.xlarge", "instance_count": "3"},'
            ' "dev": {"serverless_memory_mb": "2048"}}',
        }
    )
    assert properties.git_provider is None
    assert properties.slack_webhook_secret is None
    assert properties.repository_name == "churn-model"
    assert properties.deployment_defaults[Stage.CHAMPION].compute == InstanceCompute(
        instance_type="ml.c5.xlarge", instance_count=3
    )
    assert properties.deployment_defaults[Stage.DEV].compute == ServerlessCompute(memory_size_mb=2048)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SageMakerProjectName": None}, "SageMakerProjectName"),
        ({"SageMakerProjectName": "churn_model"}, "letters, digits and single hyphens"),
        ({"SageMakerProjectName": "-churn"}, "letters, digits and single hyphens"),
        ({"SageMakerProjectName": "a" * 33}, "at most 32 characters"),
        ({"SageMakerProjectId": "p 1"}, "SageMakerProjectId"),
        ({"RegistryBackend": "neptune"}, "RegistryBackend"),
        ({"GitProvider": "bitbucket"}, "GitProvider"),
        ({"RepositoryName": "churn.git"}, "not end in .git"),
        ({"RepositoryRetention": "forever"}, "RepositoryRetention"),
        ({"DeploymentDefaults": {"champion": {}}}, "that a baseline project does not have"),
        (
            {"DeploymentDefaults": {"dev": {"instance_type": "ml.m5.large", "serverless_memory_mb": 2048}}},
            "not both",
        ),
        ({"DeploymentDefaults": {"dev": {"instance_count": 101}}}, "instance_count"),
        ({"DeploymentDefaults": "{not json"}, "DeploymentDefaults"),
        # What the deployer could not apply is refused at creation, not at the first deployment.
        (
            {
                "DeploymentDefaults": {
                    "prod": {"instance_type": "ml.m5.large", "instance_count": 1, "strategy": "canary"}
                }
            },
            "at least 2",
        ),
        ({"DeploymentDefaults": {"dev": {"serverless_memory_mb": 2048, "strategy": "linear"}}}, "real-time"),
        ({"DeploymentDefaults": {"dev": {"colour": "blue"}}}, "colour"),
    ],
)
def test_malformed_properties_are_refused_naming_the_problem(change, message):
    raw = {key: value for key, value in {**BASE, **change}.items() if value is not None}
    with pytest.raises((ValidationError, ValueError), match=message):
        ProjectProperties.model_validate(raw)


def test_model_groups_follow_the_scenario_and_none_with_mlflow():
    assert model_group_names("churn", Scenario.BASELINE, RegistryBackend.SAGEMAKER) == (
        "churn-feature",
        "churn-dev",
        "churn-prod",
    )
    assert model_group_names("churn", Scenario.ADVANCED, RegistryBackend.SAGEMAKER) == (
        "churn-feature",
        "churn-dev",
        "churn-champion",
        "churn-challenger",
    )
    assert model_group_names("churn", Scenario.ADVANCED, RegistryBackend.MLFLOW) == ()


@mock_aws
def test_the_record_round_trips_through_the_config_table():
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="config",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    record = ProjectRecord(
        project="churn",
        project_id="p-1",
        scenario=Scenario.ADVANCED,
        registry_backend=RegistryBackend.SAGEMAKER,
        git_provider=GitProviderName.CODECOMMIT,
        repository_name="churn",
        repository_url="https://git-codecommit.us-east-1.amazonaws.com/v1/repos/churn",
        repository_retention=RepositoryRetention.ARCHIVE,
        model_group_retention=ModelGroupRetention.DELETE_IF_EMPTY,
        model_groups=("churn-feature", "churn-dev"),
        deployment_defaults={Stage.CHAMPION: {"instance_type": "ml.c5.xlarge", "instance_count": 2}},
        slack_webhook_secret="slack/churn",
        created_at="2026-11-25T18:00:00+00:00",
        updated_at="2026-11-25T18:00:00+00:00",
    )
    store = ProjectStore(dynamodb, "config")
    store.put(record)
    assert store.get("churn") == record
    assert store.get("other") is None
    item = dynamodb.get_item(TableName="config", Key={"pk": {"S": "PROJECT#churn"}, "sk": {"S": "META"}})[
        "Item"
    ]
    assert item["scenario"] == {"S": "advanced"}
    champion = item["deployment_defaults"]["M"]["champion"]["M"]
    assert champion["compute"]["M"]["instance_count"] == {"N": "2"}
    assert set(champion) == {"compute"}  # only what the project set; the deployer adds its defaults
