"""Slack's interaction requests (a button clicked), received on the Slack approvals function's URL.

Slack signs each request (Slack API, "Verifying requests from Slack"): ``X-Slack-Signature`` is
``v0=`` + hex(HMAC-SHA256(signing secret, f"v0:{timestamp}:{body}")) and ``X-Slack-Request-Timestamp``
is Unix seconds. The function URL has no IAM auth (``AuthType: NONE``): the signature is the
authentication, checked by slack_sdk's :class:`~slack_sdk.signature.SignatureVerifier` (constant-time
comparison, five-minute window). A request with a bad signature or a stale timestamp is refused with
401, a malformed one with 400; both change nothing and are logged.

The body is ``payload=<JSON>`` (form-encoded); a ``block_actions`` payload with one action becomes a
:class:`~mlops_core.notifications.approvals.Click`. Slack wants an answer within three seconds: the
click is handled at once (one read of the project record, DescribeModelPackage, UpdateModelPackage, a
POST to ``response_url``), and answered with an empty 200 (the message is updated through
``response_url``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import parse_qs

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.contract.slack_approvals import SlackMemberId
from mlops_core.handlers.function_url import request_parts, response
from mlops_core.notifications.approvals import Click, SlackApprovals
from mlops_core.notifications.settings import SlackApprovalsSettings
from mlops_core.observability import MetricUnit, logger, metrics

SIGNATURE_HEADER = "x-slack-signature"
TIMESTAMP_HEADER = "x-slack-request-timestamp"
MAX_CLOCK_SKEW_SECONDS = 300  # slack_sdk's verifier's window, Slack's advice

SigningSecret = Callable[[], str | None]


class SlackUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: SlackMemberId
    username: str | None = None
    name: str | None = None


class SlackAction(BaseModel):
    model_config = ConfigDict(extra="ignore")

    action_id: str = Field(min_length=1, max_length=255)
    value: str = Field(default="", max_length=2000)


class SlackMessageShown(BaseModel):
    model_config = ConfigDict(extra="ignore")

    blocks: list[dict[str, Any]] = Field(default_factory=list)


class BlockActions(BaseModel):
    """Slack's ``block_actions`` interaction payload (Slack API reference, "block_actions payload"):
    the fields the approvals read."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["block_actions"]
    user: SlackUser
    actions: list[SlackAction] = Field(min_length=1, max_length=1)
    response_url: str = Field(pattern=r"^https?://[^\s]+$")
    message: SlackMessageShown = Field(default_factory=SlackMessageShown)

    def click(self) -> Click:
        [action] = self.actions
        return Click(
            user_id=self.user.id,
            user_name=self.user.username or self.user.name or self.user.id,
            action_id=action.action_id,
            model_package_arn=action.value,
            response_url=self.response_url,
            message_blocks=tuple(self.message.blocks),
        )


def signature_problem(secret: str | None, headers: Mapping[str, str], body: str, *, now: float) -> str | None:
    """Why the request is not a genuine, fresh Slack request; None when it is (slack_sdk's verifier)."""
    from slack_sdk.signature import Clock, SignatureVerifier  # noqa: PLC0415 - only this function needs it

    if not secret or not secret.strip():
        return "no signing secret is configured (the SlackSigningSecret secret is empty or blank)"
    timestamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not timestamp or not signature:
        return "missing signature or timestamp header"
    if not signature.isascii():  # the verifier's constant-time comparison takes ASCII only (it would raise)
        return "signature is not ASCII"
    if not timestamp.isdigit():
        return "timestamp is not a number"
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        return "timestamp more than five minutes off (a replay, or a clock far off)"

    class At(Clock):
        def now(self) -> float:
            return now

    if not SignatureVerifier(secret, clock=At()).is_valid(
        body=body, timestamp=timestamp, signature=signature
    ):
        return "signature does not match"
    return None


def parsed_interaction(body: str) -> BlockActions | str:
    """The interaction, or what is wrong with it (the body is ``payload=<JSON>``, form-encoded)."""
    payloads = parse_qs(body, keep_blank_values=True).get("payload") or []
    if len(payloads) != 1:
        return "the body holds no single payload field"
    try:
        data = json.loads(payloads[0])
    except ValueError:
        return "payload is not JSON"
    if not isinstance(data, dict):
        return "payload is not an object"
    try:
        return BlockActions.model_validate(data)
    except ValidationError as error:
        return "payload is not a block_actions interaction: " + "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors(include_url=False)
        )


class SlackInteractionsFunction:
    """The function URL's handler: verify the signature, parse the click, hand it to the approvals."""

    def __init__(
        self,
        *,
        build_service: Callable[
            [SlackApprovalsSettings, ClientFactory], tuple[SlackApprovals, SigningSecret]
        ],
        environ: Mapping[str, str] | None = None,
        clients: ClientFactory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._build_service = build_service
        self._environ = environ
        self._clients = clients
        self._clock = clock
        self._service: tuple[SlackApprovals, SigningSecret] | None = None
        self._observed = logger.inject_lambda_context(metrics.log_metrics(self._handle), clear_state=True)

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        result: dict[str, Any] = self._observed(event, context)
        return result

    def _dependencies(self) -> tuple[SlackApprovals, SigningSecret]:
        if self._service is None:
            settings = SlackApprovalsSettings.from_environ(
                os.environ if self._environ is None else self._environ
            )
            self._service = self._build_service(settings, self._clients or ClientFactory())
        return self._service

    def _refused(self, status: int, reason: str) -> dict[str, Any]:
        if status == 401:
            logger.warning("Slack request refused", extra={"reason": reason})
            metrics.add_metric(name="SlackRequestRefused", unit=MetricUnit.Count, value=1)
            return response(401, {"status": "unauthorized"})
        logger.error("Invalid event: malformed Slack interaction", extra={"reason": reason})
        metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
        return response(status, {"status": "invalid"})

    def _handle(self, event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
        http = (event.get("requestContext") or {}).get("http") if isinstance(event, dict) else None
        if not isinstance(http, dict) or http.get("method") != "POST":
            return self._refused(405, "not a POST to the function URL")
        parts = request_parts(event)
        if isinstance(parts, str):
            return self._refused(400, parts)
        headers, body = parts
        approvals, signing_secret = self._dependencies()
        problem = signature_problem(signing_secret(), headers, body, now=self._clock())
        if problem is not None:
            return self._refused(401, problem)
        interaction = parsed_interaction(body)
        if isinstance(interaction, str):
            return self._refused(400, interaction)
        outcome = approvals.on_click(interaction.click())
        logger.info(f"Slack interaction: {outcome.status}", extra={"outcome": outcome.result()})
        metrics.add_metric(name=f"Outcome.{outcome.status}", unit=MetricUnit.Count, value=1)
        return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": ""}
