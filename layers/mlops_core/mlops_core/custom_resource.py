"""The one shape of a CloudFormation custom-resource handler, so the handler stays a few lines long.

A :class:`CustomResourceFunction` is the Lambda handler. CloudFormation waits for an answer PUT to
the request's pre-signed ``ResponseURL``; without one the stack hangs for an hour. So:

- crhelper sends the answer, SUCCESS or FAILED, also when the operation raises and, from a timer,
  just before the Lambda times out;
- an operation raises :class:`InvalidRequestError` (or any error) with a reason a person can act
  on: it becomes the ``Reason`` CloudFormation shows (crhelper keeps at most 256 characters);
- a request without an HTTPS ``ResponseURL`` cannot be answered at all (crhelper would retry a
  plain-HTTP or empty URL forever): it is logged and refused without running anything;
- dependencies (settings validated from the environment, clients, the service) are built on
  first use, never at import; a misconfigured function answers FAILED naming the variable;
- after a successful operation its domain events are published; logs and metrics go through the
  shared observability module, with the request id as correlation id.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.typing import LambdaContext
from crhelper import CfnResource
from pydantic import ValidationError

from mlops_core.aws_clients import ClientFactory
from mlops_core.aws_events import CustomResourceRequest
from mlops_core.domain_events import DomainEvent
from mlops_core.observability import MetricUnit, logger, metrics
from mlops_core.publisher import EventPublisher
from mlops_core.settings import ControlPlaneSettings

SettingsT = TypeVar("SettingsT", bound=ControlPlaneSettings)
ServiceT = TypeVar("ServiceT")


class InvalidRequestError(ValueError):
    """The request itself is wrong (properties, names): nothing was created; the message says why."""


@dataclass(frozen=True)
class ResourceOutcome:
    """What an operation did: the physical id (stable across updates), ``Fn::GetAtt`` data, events."""

    physical_id: str
    data: Mapping[str, str] = field(default_factory=dict)
    events: Sequence[DomainEvent] = ()


Operation = Callable[[ServiceT, CustomResourceRequest], ResourceOutcome]


class CustomResourceFunction(Generic[SettingsT, ServiceT]):
    def __init__(
        self,
        *,
        component: str,
        settings_model: type[SettingsT],
        build_service: Callable[[SettingsT, ClientFactory], ServiceT],
        on_create: Operation[ServiceT],
        on_update: Operation[ServiceT],
        on_delete: Operation[ServiceT],
        environ: Mapping[str, str] | None = None,
        clients: ClientFactory | None = None,
    ) -> None:
        self.component = component
        self._settings_model = settings_model
        self._build_service = build_service
        self._operations = {"Create": on_create, "Update": on_update, "Delete": on_delete}
        self._environ = environ
        self._clients = clients
        self._dependencies: tuple[ServiceT, EventPublisher] | None = None
        self._helper: CfnResource | None = None
        self._observed_handle = logger.inject_lambda_context(
            metrics.log_metrics(self._handle), correlation_id_path="RequestId", clear_state=True
        )

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        result: dict[str, Any] = self._observed_handle(event, context)
        return result

    def _handle(self, event: Any, context: LambdaContext) -> dict[str, Any]:
        url = event.get("ResponseURL") if isinstance(event, dict) else None
        if not isinstance(url, str) or not url.startswith("https://") or "RequestId" not in event:
            logger.error(
                "Unanswerable custom resource request: it needs RequestId and an https ResponseURL",
                extra={"response_url": repr(url)},
            )
            metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
            return {"Status": "FAILED", "Reason": "unanswerable request", "Answered": False}
        helper = self._cfn_helper()
        helper(event, context)
        metrics.add_metric(name=f"Outcome.{helper.Status}", unit=MetricUnit.Count, value=1)
        return {
            "Status": helper.Status,
            "Reason": helper.Reason,
            "PhysicalResourceId": str(helper.PhysicalResourceId),
            "Answered": True,
        }

    def _cfn_helper(self) -> CfnResource:
        """crhelper's resource, built on first use. Its Delete pause (waiting for CloudWatch Logs)
        is off: Powertools writes to stdout, which Lambda flushes before the answer is sent."""
        if self._helper is None:
            helper = CfnResource(
                json_logging=False, log_level="WARNING", boto_level="WARNING", sleep_on_delete=0
            )
            for request_type in self._operations:
                register = getattr(helper, request_type.lower())
                register(self._operation_for(request_type, helper))
            self._helper = helper
        return self._helper

    def _operation_for(
        self, request_type: str, helper: CfnResource
    ) -> Callable[[dict[str, Any], LambdaContext], str]:
        def run(event: dict[str, Any], context: LambdaContext) -> str:
            try:
                request = CustomResourceRequest.model_validate(event)
            except ValidationError as error:
                raise InvalidRequestError(f"malformed custom resource request: {error}") from None
            service, publisher = self._get_dependencies()
            try:
                outcome = self._operations[request_type](service, request)
            except Exception as error:
                logger.exception(f"{request_type} failed: {error}")
                metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1)
                raise
            publisher.publish(outcome.events)
            helper.Data.update(outcome.data)
            logger.info(
                f"{request_type}: SUCCESS",
                extra={"physical_id": outcome.physical_id, "data": dict(outcome.data)},
            )
            return outcome.physical_id

        return run

    def _get_dependencies(self) -> tuple[ServiceT, EventPublisher]:
        if self._dependencies is None:
            try:
                settings = self._settings_model.from_environ(
                    os.environ if self._environ is None else self._environ
                )
            except ValidationError as error:
                names = ", ".join(str(problem["loc"][0]) for problem in error.errors())
                raise RuntimeError(f"{self.component} is misconfigured: check variables {names}") from None
            clients = self._clients or ClientFactory()
            self._dependencies = (
                self._build_service(settings, clients),
                EventPublisher(clients("events"), settings.event_bus_name),
            )
        return self._dependencies
