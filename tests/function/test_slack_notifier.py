"""SlackNotifierFunction against moto's Secrets Manager and a loopback Slack webhook."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mlops_core.domain_events import DeploymentFailed, IntegrationTestsCompleted
from mlops_local.slack import SlackWebhookReceiver

from tests.function.conftest import ACCOUNT, REGION, REPO, load_handler_module

CONFIG_TABLE = "mlops-config"


def domain_event(model: type, detail: dict, event_id: str = "event-1") -> dict:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": model.DETAIL_TYPE,
        "source": model.source(),
        "account": ACCOUNT,
        "time": "2026-11-25T18:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


@pytest.fixture
def slack() -> Any:
    with SlackWebhookReceiver() as default, SlackWebhookReceiver() as project:
        yield default, project


@pytest.fixture
def notifier(aws: Any, slack: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    default, _ = slack
    secrets = aws.client("secretsmanager")
    arn = secrets.create_secret(Name="mlops-slack", SecretString=json.dumps({"webhook_url": default.url}))[
        "ARN"
    ]
    monkeypatch.setenv("SLACK_WEBHOOK_SECRET_ARN", arn)
    dynamodb = aws.client("dynamodb")
    if CONFIG_TABLE not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(
            TableName=CONFIG_TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    return load_handler_module("slack_notifier").handler


def test_a_domain_event_goes_to_the_default_webhook_and_its_url_is_never_logged(
    notifier, slack, lambda_context, capsys
):
    default, project = slack

    result = notifier(domain_event(DeploymentFailed, DeploymentFailed.EXAMPLE), lambda_context)

    assert result["status"] == "sent"
    [message] = default.messages
    assert message["text"] == ":x: Deployment to churn-dev failed"
    assert DeploymentFailed.EXAMPLE["reason"] in json.dumps(message["blocks"])
    assert project.messages == []
    assert default.url not in capsys.readouterr().out


def test_a_project_that_names_its_own_secret_gets_its_messages_there(aws, notifier, slack, lambda_context):
    default, project = slack
    own = aws.client("secretsmanager").create_secret(
        Name="churn-slack", SecretString=json.dumps({"webhook_url": project.url})
    )["ARN"]
    aws.client("dynamodb").put_item(
        TableName=CONFIG_TABLE,
        Item={"pk": {"S": "PROJECT#churn"}, "sk": {"S": "META"}, "slack_webhook_secret": {"S": own}},
    )

    notifier(domain_event(IntegrationTestsCompleted, IntegrationTestsCompleted.EXAMPLE), lambda_context)

    assert default.messages == []
    [message] = project.messages
    assert "loyal-customer-stays" in json.dumps(message["blocks"])


def test_a_stack_whose_secret_holds_no_url_says_slack_is_not_configured(aws, notifier, slack, lambda_context):
    secrets = aws.client("secretsmanager")
    secrets.put_secret_value(SecretId="mlops-slack", SecretString=json.dumps({"webhook_url": ""}))

    result = notifier(domain_event(DeploymentFailed, DeploymentFailed.EXAMPLE), lambda_context)

    assert result["status"] == "not-configured"
    assert slack[0].messages == []


def test_a_failed_pipeline_run_is_announced(notifier, slack, lambda_context):
    event = json.loads((REPO / "tests/fixtures/aws-events/pipeline-execution-status-change.json").read_text())
    event["detail"]["currentPipelineExecutionStatus"] = "Failed"

    assert notifier(event, lambda_context)["status"] == "sent"
    [message] = slack[0].messages
    assert message["text"].startswith(":x: Pipeline ")
