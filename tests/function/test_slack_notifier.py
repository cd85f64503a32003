"""SlackNotifierFunction against moto's Secrets Manager and a loopback Slack webhook."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from mlops_core.adapters.slack_webhook import (
    RATE_LIMIT_MAX_WAIT_SECONDS,
    RETRIES_PER_ERROR_KIND,
    WEBHOOK_TIMEOUT_SECONDS,
    SlackSdkSender,
)
from mlops_core.contract.events.deployment import DeploymentFailed
from mlops_core.contract.events.integration_tests import IntegrationTestsCompleted
from mlops_core.notifications.ports import SlackDeliveryError
from mlops_core.notifications.slack_messages import render
from mlops_core.observability import logger
from mlops_local.cfn_yaml import load_template
from mlops_local.slack import ScriptedWebhook, SlackWebhookReceiver
from mlops_local.testing import failed_pipeline_run, put_project_record

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


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Any:
    """Everything at DEBUG: the standard loggers (caplog) and the function's own logger (stdout)."""
    caplog.set_level(logging.DEBUG)
    level = logger.log_level
    logger.setLevel("DEBUG")
    yield caplog
    logger.setLevel(level)


def assert_not_logged(url: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture) -> None:
    captured = capsys.readouterr()
    assert captured.out and caplog.records  # something was logged: the check below means something
    assert url not in captured.out
    assert url not in captured.err
    leaked = [
        (r.name, r.getMessage()[:300])
        for r in caplog.records
        if url in r.getMessage() or url in str(r.__dict__)
    ]
    assert leaked == []
    path = url.split("://", 1)[1].split("/", 1)[1]  # the secret part, however a logger formats the URL
    assert path not in captured.out + captured.err + caplog.text


def test_a_domain_event_goes_to_the_default_webhook_and_its_url_is_never_logged(
    notifier, slack, lambda_context, debug_logs, capsys
):
    default, project = slack

    result = notifier(domain_event(DeploymentFailed, DeploymentFailed.EXAMPLE), lambda_context)

    assert result["status"] == "sent"
    [message] = default.messages
    assert message["text"] == ":x: Deployment to churn-dev failed"
    assert DeploymentFailed.EXAMPLE["reason"] in json.dumps(message["blocks"])
    assert project.messages == []
    assert_not_logged(default.url, debug_logs, capsys)


def test_a_project_that_names_its_own_secret_gets_its_messages_there(aws, notifier, slack, lambda_context):
    default, project = slack
    own = aws.client("secretsmanager").create_secret(
        Name="slack/churn/webhook", SecretString=json.dumps({"webhook_url": project.url})
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


def test_a_failed_run_of_a_pipeline_that_is_no_projects_is_not_announced(notifier, slack, lambda_context):
    event = json.loads((REPO / "tests/fixtures/aws-events/pipeline-execution-status-change.json").read_text())
    event["detail"]["currentPipelineExecutionStatus"] = "Failed"  # pipeline/myPipeline-123: no project's

    assert notifier(event, lambda_context)["status"] == "not-a-project-pipeline"
    assert slack[0].messages == [] and slack[1].messages == []


def own_channel(aws: Any, project: str, url: str) -> None:
    own = aws.client("secretsmanager").create_secret(
        Name=f"slack/{project}/webhook", SecretString=json.dumps({"webhook_url": url})
    )["ARN"]
    put_project_record(aws, CONFIG_TABLE, project, slack_webhook_secret=own)


def test_a_failed_run_of_a_projects_pipeline_goes_to_its_channel_with_the_failed_step_and_reason(
    aws, notifier, slack, lambda_context
):
    default, project = slack
    own_channel(aws, "churn", project.url)
    event = failed_pipeline_run(
        aws, "churn", "dev", step="TrainModel", reason="ClientError: AlgorithmError: out of memory"
    )

    assert notifier(event, lambda_context)["status"] == "sent"

    assert default.messages == []
    [message] = project.messages
    assert message["text"] == ":x: Pipeline churn-dev-build failed"
    text = json.dumps(message["blocks"])
    assert "*Failed step* `TrainModel`: ClientError: AlgorithmError: out of memory" in text
    assert "*Project*\\n`churn`" in text and "*Stage*\\n`dev`" in text


def test_a_pipeline_named_like_a_project_without_a_record_is_not_announced(
    aws, notifier, slack, lambda_context
):
    event = failed_pipeline_run(aws, "stranger", "dev", step="TrainModel", reason="boom")

    assert notifier(event, lambda_context)["status"] == "not-a-project-pipeline"
    assert slack[0].messages == []


def test_a_failed_run_whose_execution_is_gone_is_announced_without_its_reason(
    aws, notifier, slack, lambda_context
):
    put_project_record(aws, CONFIG_TABLE, "demo")
    event = json.loads((REPO / "events/pipeline-execution-failed.json").read_text())  # never started here

    assert notifier(event, lambda_context)["status"] == "sent"
    [message] = slack[0].messages
    assert "SageMaker gave no reason" in json.dumps(message["blocks"])


def test_a_project_cannot_send_its_messages_through_a_secret_outside_its_own_prefix(
    aws, notifier, slack, lambda_context
):
    default, project = slack
    others = aws.client("secretsmanager").create_secret(
        Name="slack/fraud/webhook", SecretString=json.dumps({"webhook_url": project.url})
    )["ARN"]
    aws.client("dynamodb").put_item(
        TableName=CONFIG_TABLE,
        Item={"pk": {"S": "PROJECT#churn"}, "sk": {"S": "META"}, "slack_webhook_secret": {"S": others}},
    )

    notifier(domain_event(DeploymentFailed, DeploymentFailed.EXAMPLE), lambda_context)

    assert project.messages == [] and len(default.messages) == 1


def send_with(webhook: ScriptedWebhook, waits: list[float]) -> None:
    message = render("Deployment Failed", "mlops.model-deployer", DeploymentFailed.EXAMPLE)
    SlackSdkSender(sleep=waits.append).send(webhook.url, message)


def test_a_429_within_the_cap_is_waited_out_for_its_retry_after_and_sent():
    waits: list[float] = []
    with ScriptedWebhook([(429, {"Retry-After": "2"}), (429, {"Retry-After": "0"})]) as webhook:
        send_with(webhook, waits)

    assert webhook.requests == 3
    assert waits == [2.0, 0.0]


def test_a_429_asking_for_longer_than_the_cap_fails_now_so_one_message_cannot_outlive_the_function():
    waits: list[float] = []
    with (
        ScriptedWebhook([(429, {"Retry-After": "3600"})]) as webhook,
        pytest.raises(SlackDeliveryError, match=r"Slack answered 429 .*Retry-After 3600 s"),
    ):
        send_with(webhook, waits)

    assert webhook.requests == 1 and waits == []
    assert (
        notifier_timeout_seconds()
        > RATE_LIMIT_MAX_WAIT_SECONDS * RETRIES_PER_ERROR_KIND
        + WEBHOOK_TIMEOUT_SECONDS * (RETRIES_PER_ERROR_KIND + 1)
    )


def notifier_timeout_seconds() -> int:
    template = load_template(REPO / "template.yaml")
    return int(template["Resources"]["SlackNotifierFunction"]["Properties"]["Timeout"])
