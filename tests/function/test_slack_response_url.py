"""SlackResponseUrl (the approvals' answer to a click) against loopback Slack stand-ins: one POST of
the message as JSON, no retries, and a clear SlackDeliveryError for every way it fails."""

from __future__ import annotations

import socket

import pytest
from mlops_core.adapters.slack_response_url import SlackResponseUrl
from mlops_core.notifications.ports import SlackDeliveryError
from mlops_local.slack import ScriptedWebhook, SlackWebhookReceiver

MESSAGE = {"replace_original": True, "text": "churn-prod v3: approved by <@U0PRODAPPR>"}


def test_the_message_is_posted_as_json_to_the_response_url():
    with SlackWebhookReceiver() as slack:
        url = slack.new_response_url()

        SlackResponseUrl().respond(url, MESSAGE)

        assert slack.responses == [(url, MESSAGE)]


def test_an_answer_other_than_200_fails_at_once_with_its_status():
    with ScriptedWebhook([(500, {})]) as slack, pytest.raises(SlackDeliveryError, match="answered 500"):
        SlackResponseUrl().respond(slack.url, MESSAGE)
    assert slack.requests == 1  # no retry: Slack waits three seconds for the function's answer


def test_an_unreachable_response_url_is_a_delivery_error():
    with socket.socket() as closed:  # a loopback port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]

    with pytest.raises(SlackDeliveryError, match="unreachable"):
        SlackResponseUrl().respond(f"http://127.0.0.1:{port}/actions/1", MESSAGE)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "x"])
def test_a_response_url_that_is_not_http_is_never_opened(url):
    with pytest.raises(SlackDeliveryError, match="not an http"):
        SlackResponseUrl().respond(url, MESSAGE)
