"""MLflow 3 model registry webhooks, received on the alias watcher's Lambda function URL.

MLflow signs each delivery (``mlflow/webhooks/delivery.py``): header ``X-MLflow-Signature`` is
``v1,`` + base64(HMAC-SHA256(secret, f"{delivery_id}.{timestamp}.{body}")), with
``X-MLflow-Delivery-Id`` and ``X-MLflow-Timestamp`` (Unix seconds). The function URL has no IAM auth
(``AuthType: NONE``): the signature is the authentication. A request without a valid signature, or
with a timestamp more than five minutes off (a replay), is refused with 401 and changes nothing.
A delivery id is processed once (a conditional put); its alias change goes through the same
compare-and-set state as the poll, so webhook and poll never both emit one change.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError

from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.adapters.event_bus import EventPublisher
from mlops_core.contract.outcome import Outcome
from mlops_core.handlers.function_url import request_parts, response
from mlops_core.mlflow_aliases.alias_watcher import MlflowAliasWatcher
from mlops_core.mlflow_aliases.settings import MlflowWatcherSettings
from mlops_core.observability import MetricUnit, logger, metrics

SIGNATURE_HEADER = "x-mlflow-signature"
TIMESTAMP_HEADER = "x-mlflow-timestamp"
DELIVERY_ID_HEADER = "x-mlflow-delivery-id"
SIGNATURE_VERSION = "v1"
MAX_CLOCK_SKEW_SECONDS = 300
ALIAS_ENTITY = "model_version_alias"


def sign(secret: str, delivery_id: str, timestamp: str, body: str) -> str:
    """The signature MLflow sends for this delivery (``v1,<base64>``)."""
    digest = hmac.new(secret.encode(), f"{delivery_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signature_problem(secret: str | None, headers: Mapping[str, str], body: str, *, now: float) -> str | None:
    """Why the request is not a genuine, fresh MLflow delivery; None when it is."""
    if not secret:
        return "no webhook secret is configured (MlflowWebhookSecretName)"
    signature = headers.get(SIGNATURE_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    delivery_id = headers.get(DELIVERY_ID_HEADER)
    if not signature or not timestamp or not delivery_id:
        return "missing signature, timestamp or delivery id header"
    if not timestamp.isdigit() or abs(now - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        return "timestamp missing or more than five minutes off"
    if not hmac.compare_digest(sign(secret, delivery_id, timestamp, body), signature):
        return "signature does not match"
    return None


class AliasPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    alias: str
    version: int | None = None


class WebhookDelivery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entity: str
    action: str
    data: dict[str, Any]


class WebhookFunction:
    """The function URL's handler: verify, de-duplicate, record the alias change, publish the event."""

    def __init__(
        self,
        *,
        build_service: Callable[[MlflowWatcherSettings, ClientFactory], MlflowAliasWatcher],
        environ: Mapping[str, str] | None = None,
        clients: ClientFactory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._build_service = build_service
        self._environ = environ
        self._clients = clients
        self._clock = clock
        self._service: MlflowAliasWatcher | None = None
        self._publisher: EventPublisher | None = None
        self._observed = logger.inject_lambda_context(metrics.log_metrics(self._handle), clear_state=True)

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        result: dict[str, Any] = self._observed(event, context)
        return result

    def _dependencies(self) -> tuple[MlflowAliasWatcher, EventPublisher]:
        if self._service is None or self._publisher is None:
            settings = MlflowWatcherSettings.from_environ(
                os.environ if self._environ is None else self._environ
            )
            clients = self._clients or ClientFactory()
            self._service = self._build_service(settings, clients)
            self._publisher = EventPublisher(clients("events"), settings.event_bus_name)
        return self._service, self._publisher

    def _handle(self, event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
        http = event["requestContext"]["http"]
        method = http.get("method") if isinstance(http, dict) else None
        if method != "POST":
            logger.warning("Webhook refused: not a POST", extra={"method": repr(method)})
            metrics.add_metric(name="WebhookRefused", unit=MetricUnit.Count, value=1)
            return response(405, {"status": "method-not-allowed"})
        parts = request_parts(event)
        if isinstance(parts, str):
            logger.error("Invalid event: malformed function URL request", extra={"reason": parts})
            metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
            return response(400, {"status": "invalid"})
        headers, body = parts
        service, publisher = self._dependencies()
        problem = signature_problem(service.webhook_secret(), headers, body, now=self._clock())
        if problem is not None:
            logger.warning("Webhook refused", extra={"reason": problem})
            metrics.add_metric(name="WebhookRefused", unit=MetricUnit.Count, value=1)
            return response(401, {"status": "unauthorized"})
        delivery_id = headers[DELIVERY_ID_HEADER]
        logger.set_correlation_id(delivery_id)
        try:
            delivery = WebhookDelivery.model_validate_json(body)
            payload = AliasPayload.model_validate(delivery.data) if delivery.entity == ALIAS_ENTITY else None
        except ValidationError as error:
            logger.error(
                "Invalid event: webhook payload failed validation",
                extra={"validation_errors": error.errors(include_url=False, include_input=False)},
            )
            metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
            return response(400, {"status": "invalid"})
        if payload is None or delivery.action not in ("created", "deleted"):
            metrics.add_metric(name="Outcome.ignored", unit=MetricUnit.Count, value=1)
            return response(200, {"status": "ignored", "reason": f"{delivery.entity}.{delivery.action}"})
        if not service.state.claim_delivery(delivery_id):
            metrics.add_metric(name="Outcome.duplicate", unit=MetricUnit.Count, value=1)
            return response(200, {"status": "duplicate", "delivery_id": delivery_id})
        try:
            version = payload.version if delivery.action == "created" else None
            outcome: Outcome = service.on_alias_webhook(payload.name, payload.alias, version)
            publisher.publish(outcome.events)
        except Exception:
            service.state.release_delivery(delivery_id)  # MLflow's retry may deliver it again
            logger.exception("Webhook failed", extra={"delivery_id": delivery_id})
            metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1)
            return response(502, {"status": "failed", "delivery_id": delivery_id})
        logger.info(f"Webhook: {outcome.status}", extra={"outcome": outcome.result()})
        metrics.add_metric(name=f"Outcome.{outcome.status}", unit=MetricUnit.Count, value=1)
        return response(200, {**outcome.result(), "delivery_id": delivery_id})
