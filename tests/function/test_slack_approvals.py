"""SlackApprovalsFunction's function URL handler against moto: what it refuses before anything changes
(unsigned, stale, tampered or malformed requests), and one click as Slack sends it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from mlops_core.contract.slack_approvals import APPROVE_ACTION_ID
from mlops_local.function_urls import function_url_event
from mlops_local.slack import SlackWebhookReceiver, block_actions_payload, signed_request
from mlops_local.testing import put_project_record
from slack_sdk.signature import SignatureVerifier

from tests.function.conftest import ACCOUNT, load_handler_module

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
APPROVER = "U0PRODAPPR"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"


@pytest.fixture
def slack() -> Any:
    with SlackWebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def version(aws: Any) -> str:
    """Version 1 of churn-prod, pending, in a project whose prod approver is APPROVER."""
    put_project_record(aws, "mlops-config", "churn", slack_approvers={"prod": [APPROVER]})
    sagemaker = aws.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName="churn-prod")
    return str(
        sagemaker.create_model_package(
            ModelPackageGroupName="churn-prod",
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": IMAGE}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
    )


@pytest.fixture
def handler(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    arn = aws.client("secretsmanager").create_secret(
        Name="mlops-slack-signing", SecretString=json.dumps({"signing_secret": SIGNING_SECRET})
    )["ARN"]
    monkeypatch.setenv("SLACK_SIGNING_SECRET_ARN", arn)
    return load_handler_module("slack_approvals").handler


def message(arn: str) -> dict[str, Any]:
    button = {"type": "button", "action_id": APPROVE_ACTION_ID, "value": arn, "text": {"type": "plain_text"}}
    return {"text": "churn-prod v1 waits for approval", "blocks": [{"type": "actions", "elements": [button]}]}


def request(body: bytes, headers: dict[str, str], method: str = "POST") -> dict[str, Any]:
    return function_url_event(method, "/", headers, body, account=ACCOUNT)


def click(arn: str, slack: SlackWebhookReceiver, **fields: Any) -> dict[str, Any]:
    payload = block_actions_payload(
        message(arn),
        APPROVE_ACTION_ID,
        user_id=APPROVER,
        user_name="jane",
        response_url=slack.new_response_url(),
    )
    return {**payload, **fields}


def status_of(aws: Any, arn: str) -> str:
    return str(aws.client("sagemaker").describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"])


def test_a_signed_click_of_an_approver_approves_the_version(aws, handler, version, slack, lambda_context):
    body, headers = signed_request(click(version, slack), SIGNING_SECRET)

    answer = handler(request(body, headers), lambda_context)

    assert answer["statusCode"] == 200
    assert status_of(aws, version) == "Approved"
    [(_, reply)] = slack.responses
    assert reply["replace_original"] is True


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"headers": {"X-Slack-Signature": "v0=" + "0" * 64}}, 401),
        ({"headers": {"X-Slack-Signature": ""}}, 401),
        ({"headers": {"X-Slack-Signature": "v0=\u00e9" + "0" * 63}}, 401),
        ({"headers": {"X-Slack-Request-Timestamp": "yesterday"}}, 401),
        ({"seconds_off": -400}, 401),
        ({"seconds_off": 400}, 401),
        ({"method": "GET"}, 405),
    ],
    ids=[
        "wrong-signature",
        "no-signature",
        "non-ascii-signature",
        "timestamp-not-a-number",
        "stale",
        "from-the-future",
        "get",
    ],
)
def test_a_request_that_is_not_slacks_now_is_refused_and_changes_nothing(
    aws, handler, version, slack, lambda_context, change, status
):
    sent_at = int(time.time()) + change["seconds_off"] if "seconds_off" in change else None
    body, headers = signed_request(click(version, slack), SIGNING_SECRET, timestamp=sent_at)
    headers = {**headers, **change.get("headers", {})}

    answer = handler(request(body, headers, change.get("method", "POST")), lambda_context)

    assert answer["statusCode"] == status
    assert status_of(aws, version) == "PendingManualApproval"
    assert slack.responses == []


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        json.dumps(["a list"]),
        json.dumps({"type": "view_submission"}),
        json.dumps(
            {"type": "block_actions", "user": {"id": "<!channel>"}, "actions": [], "response_url": "x"}
        ),
    ],
    ids=["not-json", "not-an-object", "another-interaction", "invalid-fields"],
)
def test_a_signed_but_malformed_payload_is_a_400_and_changes_nothing(
    aws, handler, version, slack, lambda_context, payload
):
    body = urlencode({"payload": payload}).encode()
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=body.decode())
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": str(signature),
    }

    answer = handler(request(body, headers), lambda_context)

    assert answer["statusCode"] == 400
    assert status_of(aws, version) == "PendingManualApproval"
    assert slack.responses == []


@pytest.mark.parametrize("unset", ["", "   "], ids=["empty", "blank"])
def test_a_stack_whose_signing_secret_is_not_set_refuses_every_request(
    aws, handler, version, slack, lambda_context, unset
):
    aws.client("secretsmanager").put_secret_value(
        SecretId="mlops-slack-signing", SecretString=json.dumps({"signing_secret": unset})
    )
    body, headers = signed_request(click(version, slack), SIGNING_SECRET)
    # Signed with the blank secret itself, as one who knows it is blank would sign.
    timestamp = headers["X-Slack-Request-Timestamp"]
    digest = hmac.new(unset.encode(), f"v0:{timestamp}:{body.decode()}".encode(), hashlib.sha256)
    forged = {**headers, "X-Slack-Signature": f"v0={digest.hexdigest()}"}

    assert handler(request(body, headers), lambda_context)["statusCode"] == 401
    assert handler(request(body, forged), lambda_context)["statusCode"] == 401
    assert status_of(aws, version) == "PendingManualApproval"
