"""Secrets (docs/architecture.md, "What every handler guarantees"): every flow runs with known secret values, which then appear nowhere they must not.

The secrets (each with characters that URL-encoding changes): the stack's Slack webhook URL and a
project's own one (each carrying a token in its path), the GitHub token (checked by a loopback GitHub
that refuses any other), and the MLflow webhook's HMAC secret. The flows: a project created on GitHub
with its own Slack channel, an approval deployed and tested (with Slack messages), a promotion, the
reaper, signed and forged MLflow webhooks, Slack unreachable, and the project deleted. Afterwards
neither a secret nor its obvious encodings (URL-encoded, base64, the token alone) is in any log line or
error of any invocation, any event a function emitted, any Slack message, or any function's environment
(as deployed, and as Lambda reports it).
"""

from __future__ import annotations

import base64
import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from mlops_core.contract.slack_approvals import APPROVE_ACTION_ID
from mlops_core.handlers.mlflow_webhook import sign
from mlops_local import LocalCloud
from mlops_local.function_urls import function_url_event
from mlops_local.runtime import Invocation
from mlops_local.slack import block_actions_payload, signed_request

from tests.reliability.conftest import put_project, register, set_status
from tests.unit.test_git_providers import TOKEN as FAKE_GITHUB_TOKEN
from tests.unit.test_git_providers import FakeGitHub, FakeGitHubServer

SLACK_TOKEN = "XsLaCkToKeN+/=7Q1"
PROJECT_SLACK_TOKEN = "PrOjEcTsLaCk+/=9Z2"
GITHUB_TOKEN = "ghp_GiThUbToKeN+/=5K3"
WEBHOOK_SECRET = "MlFlOwHmAc+/=3J4"
SLACK_SIGNING_SECRET = "SlAcKsIgNiNg+/=4M8"
SECRETS = (SLACK_TOKEN, PROJECT_SLACK_TOKEN, GITHUB_TOKEN, WEBHOOK_SECRET, SLACK_SIGNING_SECRET)
PROJECT = "sec1z"
STACK_TAGS = [{"Key": "mlops:managed-by", "Value": "mlops"}]  # the local cloud's stack name


def forms(secret: str) -> set[str]:
    """The secret and the ways it is commonly leaked in another shape."""
    return {
        secret,
        quote(secret, safe=""),
        quote(secret),
        base64.b64encode(secret.encode()).decode(),
        base64.urlsafe_b64encode(secret.encode()).decode(),
        json.dumps(secret)[1:-1],
    }


LEAKS = sorted(set().union(*(forms(secret) for secret in SECRETS)))


class TokenCheckingGitHub(FakeGitHub):
    """The unit tests' GitHub, answering only requests that carry our token."""

    def handle(self, method: str, path: str, body: Any, token: str) -> tuple[int, Any]:
        if token != f"Bearer {GITHUB_TOKEN}":
            return 401, {"message": "Bad credentials"}
        return super().handle(method, path, body, f"Bearer {FAKE_GITHUB_TOKEN}")


@pytest.fixture(scope="module")
def github() -> Iterator[tuple[TokenCheckingGitHub, str]]:
    fake = TokenCheckingGitHub()
    with FakeGitHubServer(fake) as server:
        yield fake, server.base_url


@pytest.fixture(scope="module")
def cloud(github: tuple[TokenCheckingGitHub, str]) -> Iterator[LocalCloud]:
    parameters = {
        "DeployedStages": "feature,dev,prod,champion,challenger",
        "GitHubOrganization": "acme",
        "GitHubTokenSecretName": "github/token",
        "GitHubApiUrl": github[1],
        "MlflowWebhookSecretName": "mlflow/webhook",
    }
    with LocalCloud(parameters=parameters) as local_cloud:
        secrets = local_cloud.session.client("secretsmanager")
        secrets.create_secret(Name="github/token", SecretString=json.dumps({"token": GITHUB_TOKEN}))
        secrets.create_secret(Name="mlflow/webhook", SecretString=json.dumps({"secret": WEBHOOK_SECRET}))
        secrets.create_secret(
            Name=f"slack/{PROJECT}/channel",
            SecretString=json.dumps(
                {"webhook_url": f"{local_cloud.slack_webhook_url}/T1/B1/{PROJECT_SLACK_TOKEN}"}
            ),
            Tags=STACK_TAGS,  # the notifier may read only slack/ secrets tagged as its stack's
        )
        local_cloud.set_slack_webhook_url(f"{local_cloud.slack_webhook_url}/T0/B0/{SLACK_TOKEN}")
        local_cloud.set_slack_signing_secret(SLACK_SIGNING_SECRET)
        local_cloud.session.client("s3").create_bucket(Bucket="sagemaker-us-east-1-123456789012")
        yield local_cloud


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _webhook(body: dict[str, Any], secret: str) -> dict[str, Any]:
    text = json.dumps(body)
    delivery, timestamp = str(uuid.uuid4()), str(int(time.time()))
    return {
        "version": "2.0",
        "headers": {
            "x-mlflow-delivery-id": delivery,
            "x-mlflow-timestamp": timestamp,
            "x-mlflow-signature": sign(secret, delivery, timestamp, text),
        },
        "requestContext": {"http": {"method": "POST", "path": "/"}},
        "body": text,
        "isBase64Encoded": False,
    }


def _event(detail_type: str, source: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "detail-type": detail_type, "source": source, "detail": detail}


def _send(cloud: LocalCloud, event: dict[str, Any]) -> Any:
    return cloud.send(event, cloud.bus_for(event))


def test_no_secret_appears_in_logs_events_slack_or_environment(
    cloud: LocalCloud, github: tuple[TokenCheckingGitHub, str]
) -> None:
    fake_github, _ = github
    direct: list[Invocation] = []
    properties = {"SageMakerProjectName": PROJECT, "SageMakerProjectId": "p-sec1", "GitProvider": "github",
                  "SlackWebhookSecret": f"slack/{PROJECT}/channel", "RepositoryRetention": "archive"}  # fmt: skip

    # A project on GitHub (the token is used: the fake refuses anything else), with its own Slack channel.
    created = cloud.request_custom_resource("ProjectLifecycleFunction", "Create", properties)
    direct.append(created.invocation)
    assert created.status == "SUCCESS", created.reason
    assert PROJECT in fake_github.repositories
    cloud.settle()  # Project Created → Slack (the project's channel)

    # An approval deployed to dev and tested (no suite), each step told on Slack.
    arn = register(cloud, f"{PROJECT}-dev")
    set_status(cloud, arn, "Approved")
    trace = cloud.settle()
    assert trace.events(detail_type="Integration Tests Completed")
    # A promotion from CI (GitHub), and the reaper, on request.
    _send(cloud, _event("Git Branch Updated", "mlops.ci", {
        "repository": f"acme/{PROJECT}", "branch": "prod", "commit_id": "c0ffee", "project": PROJECT,
        "provider": "github"}))  # fmt: skip
    reaped = _send(cloud, _event("Endpoints Reap Requested", "mlops.operator", {"dry_run": False}))
    assert reaped.events(detail_type="Endpoints Reaped")

    # MLflow webhooks: a genuine delivery, and a forged one (refused, and logged as refused).
    delivery = {"entity": "model_version_alias", "action": "deleted", "data": {"name": "m", "alias": "dev"}}
    genuine = cloud.invoke("MlflowAliasWatcherFunction", _webhook(delivery, WEBHOOK_SECRET))
    forged = cloud.invoke("MlflowAliasWatcherFunction", _webhook(delivery, WEBHOOK_SECRET[:-1]))
    assert (genuine.result["statusCode"], forged.result["statusCode"]) == (200, 401)
    direct += [genuine, forged]

    # Slack interactions: a signed click (a member who approves nothing: a reply only they see), and a
    # forged one (refused, and logged as refused).
    button = {"type": "button", "action_id": APPROVE_ACTION_ID, "value": arn}
    click = block_actions_payload(
        {"text": "pending", "blocks": [{"type": "actions", "elements": [button]}]},
        APPROVE_ACTION_ID,
        user_id="U0NOTANAPP",
        user_name="someone",
        response_url=cloud.new_slack_response_url(),
    )
    answers = []
    for secret in (SLACK_SIGNING_SECRET, SLACK_SIGNING_SECRET[:-1]):
        body, headers = signed_request(click, secret)
        request = function_url_event("POST", "/", headers, body, account=cloud.account_id)
        answers.append(cloud.invoke("SlackApprovalsFunction", request))
    assert [answer.result["statusCode"] for answer in answers] == [200, 401]
    direct += answers

    # Slack unreachable: the notifier fails (and is retried) with the URL's token in hand.
    cloud.session.client("secretsmanager").create_secret(
        Name="slack/sec3z/channel",
        SecretString=json.dumps(
            {"webhook_url": f"http://127.0.0.1:{_closed_port()}/T2/B2/{PROJECT_SLACK_TOKEN}"}
        ),
        Tags=STACK_TAGS,
    )
    put_project(cloud, "sec3z", slack_webhook_secret="slack/sec3z/channel")
    unreachable = _send(
        cloud, _event("Integration Tests Requested", "mlops.operator", {"endpoint_name": "sec3z-dev"})
    )
    assert unreachable.failures()  # the notifier did fail: its errors are in what is checked below

    # The project deleted (its repository archived on GitHub).
    deleted = cloud.request_custom_resource("ProjectLifecycleFunction", "Delete", properties,
                                            physical_id=created.physical_id)  # fmt: skip
    direct.append(deleted.invocation)
    assert deleted.status == "SUCCESS", deleted.reason
    cloud.settle()

    invocations = [*cloud.history.invocations(), *direct]
    assert {i.function for i in invocations} >= set(cloud.functions)  # every function ran
    assert len(cloud.slack_messages) >= 5

    def leaks(where: str, text: str) -> list[str]:
        return [f"{where}: {leak!r}" for leak in LEAKS if leak in text]

    found: list[str] = []
    for invocation in invocations:
        for line in invocation.logs:
            found += leaks(
                f"{invocation.function} log", json.dumps(line) if not isinstance(line, str) else line
            )
        if invocation.error is not None:
            found += leaks(f"{invocation.function} error", json.dumps(invocation.response))
        found += leaks(f"{invocation.function} emitted", json.dumps(invocation.emitted))
        found += leaks(f"{invocation.function} result", json.dumps(invocation.result))
    found += leaks("slack", json.dumps(cloud.slack_messages))
    found += leaks("events", json.dumps([delivery.event for delivery in cloud.history]))
    lambda_client = cloud.session.client("lambda")
    for logical_id, function in cloud.functions.items():
        found += leaks(f"{logical_id} environment", json.dumps(function.environment))
        configuration = lambda_client.get_function_configuration(FunctionName=function.name)
        found += leaks(f"{logical_id} configuration", json.dumps(configuration, default=str))
    assert found == []
