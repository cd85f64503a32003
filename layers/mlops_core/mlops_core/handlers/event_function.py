"""The one shape every EventBridge-triggered handler has, so handlers stay a few lines long.

An :class:`EventFunction` is the Lambda handler. For each event it:
1. picks the route by ``detail-type`` and validates the event into its typed model; an event that
   does not validate is logged with the validation errors and answered ``invalid``: nothing in
   AWS changes, and nothing is raised (a raise would be retried, uselessly, by Lambda);
2. builds the function's dependencies on first use (settings validated from the environment,
   clients, the idempotency store, the domain service): nothing at import time;
3. runs the route's operation at most once per event id (Powertools Idempotency on DynamoDB, as
   EventBridge delivers at least once), then publishes the operation's domain events. A failure
   raises, the idempotency record is released, and Lambda's asynchronous retries try again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, get_args

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.adapters.conditional_writes import with_write_token
from mlops_core.adapters.event_bus import EventPublisher
from mlops_core.contract.outcome import Outcome
from mlops_core.handlers.event_metrics import publish_event_metrics
from mlops_core.observability import MetricUnit, logger, metrics
from mlops_core.settings import ControlPlaneSettings

if TYPE_CHECKING:  # the models are not needed at run time here (the notifier never imports them)
    pass

SettingsT = TypeVar("SettingsT", bound=ControlPlaneSettings)
ServiceT = TypeVar("ServiceT")
IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600
# The largest result (as JSON) an invocation returns and its idempotency record keeps in full.
MAX_RESULT_CHARACTERS = 100_000
# The Lambda context of the invocation being handled: a service that must finish before the function
# times out is given :func:`remaining_time_ms` (the domain never sees the context itself).
current_lambda_context: ContextVar[LambdaContext | None] = ContextVar("current_lambda_context", default=None)


def remaining_time_ms() -> int | None:
    """The milliseconds left in the invocation being handled (None outside an invocation)."""
    context = current_lambda_context.get()
    return context.get_remaining_time_in_millis() if context is not None else None


class ClaimingClient:
    """The idempotency store's DynamoDB client: each claim on an event id (Powertools' conditional
    PutItem of an ``INPROGRESS`` record) carries a write token of its own
    (:func:`~mlops_core.adapters.conditional_writes.with_write_token`).

    Without it, a claim whose PutItem succeeded but whose answer was lost (a 500 after the write) is
    retried, refused by its own record, and the event is reported "already in progress" until the
    record's in-progress expiry (the function's timeout): Lambda's retries come sooner, fail the same
    way, and the event ends in the on-failure queue. Any other claim (a redelivery, a concurrent copy
    of the event) has another token, so it still waits or gets the stored result. Everything else is
    the wrapped client's."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def put_item(self, **request: Any) -> Any:
        if "ConditionExpression" in request:
            request = with_write_token(request)
        return self._client.put_item(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@dataclass(frozen=True)
class Route(Generic[ServiceT]):
    """Events of one ``detail-type`` → one operation. The detail-type is the model's ``detail_type``
    literal, or ``for_detail_type`` when one model serves several detail-types (the notifier's)."""

    model: type[BaseModel]
    operation: Callable[[ServiceT, Any], Outcome]
    for_detail_type: str | None = None

    @property
    def detail_type(self) -> str:
        if self.for_detail_type is not None:
            return self.for_detail_type
        (detail_type,) = get_args(self.model.model_fields["detail_type"].annotation)
        return str(detail_type)


@dataclass
class _Dependencies(Generic[ServiceT]):
    service: ServiceT
    publisher: EventPublisher
    run_once: Callable[..., dict[str, Any]]
    idempotency_config: IdempotencyConfig


class EventFunction(Generic[SettingsT, ServiceT]):
    def __init__(
        self,
        *,
        component: str,
        settings_model: type[SettingsT],
        build_service: Callable[[SettingsT, ClientFactory], ServiceT],
        routes: Sequence[Route[ServiceT]],
        environ: Mapping[str, str] | None = None,
        clients: ClientFactory | None = None,
    ) -> None:
        self.component = component
        self._settings_model = settings_model
        self._build_service = build_service
        self._routes = {route.detail_type: route for route in routes}
        self._environ = environ
        self._clients = clients
        self._dependencies: _Dependencies[ServiceT] | None = None
        self._observed_handle = logger.inject_lambda_context(
            metrics.log_metrics(self._handle),
            correlation_id_path=correlation_paths.EVENT_BRIDGE,
            clear_state=True,
        )

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        result: dict[str, Any] = self._observed_handle(event, context)
        return result

    def _handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        current_lambda_context.set(context)
        parsed = self._parse(event)
        if parsed is None:
            metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
            return {"status": "invalid"}
        route, model = parsed
        dependencies = self._get_dependencies()
        dependencies.idempotency_config.register_lambda_context(context)
        try:
            result = dependencies.run_once(event=event, route=route, model=model)
        except Exception:
            metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1)
            raise
        metrics.add_metric(name=f"Outcome.{result['status']}", unit=MetricUnit.Count, value=1)
        return result

    def _parse(self, event: Any) -> tuple[Route[ServiceT], BaseModel] | None:
        detail_type = event.get("detail-type") if isinstance(event, dict) else None
        route = self._routes.get(detail_type) if isinstance(detail_type, str) else None
        if route is None:
            logger.error(
                "Invalid event: unexpected detail-type",
                extra={"detail_type": repr(detail_type), "expected": sorted(self._routes)},
            )
            return None
        try:
            return route, route.model.model_validate(event)
        except ValidationError as error:
            logger.error(
                f"Invalid event: {route.detail_type} failed validation",
                extra={"validation_errors": error.errors(include_url=False, include_input=False)},
            )
            return None

    def _process(self, *, event: dict[str, Any], route: Route[ServiceT], model: BaseModel) -> dict[str, Any]:
        assert self._dependencies is not None
        outcome = route.operation(self._dependencies.service, model)
        self._dependencies.publisher.publish(outcome.events)
        publish_event_metrics(outcome.events)
        result = outcome.result()
        logger.info(f"{route.detail_type}: {outcome.status}", extra={"outcome": result})
        if len(json.dumps(result)) > MAX_RESULT_CHARACTERS:
            # The idempotency record holds the result, and DynamoDB refuses an item over 400 KB: failing
            # to record a success would re-run the operation on Lambda's retries. The log has it all.
            return {"status": outcome.status, "events": result["events"], "details_dropped": True}
        return result

    def _get_dependencies(self) -> _Dependencies[ServiceT]:
        if self._dependencies is None:
            settings = self._settings_model.from_environ(
                os.environ if self._environ is None else self._environ
            )
            clients = self._clients or ClientFactory()
            config = IdempotencyConfig(
                event_key_jmespath="id",
                raise_on_no_idempotency_key=True,
                expires_after_seconds=IDEMPOTENCY_WINDOW_SECONDS,
            )
            store = DynamoDBPersistenceLayer(
                table_name=settings.idempotency_table_name,
                boto3_client=ClaimingClient(clients("dynamodb")),
            )
            run_once = idempotent_function(
                self._process,
                data_keyword_argument="event",
                persistence_store=store,
                config=config,
                key_prefix=self.component,
            )
            self._dependencies = _Dependencies(
                service=self._build_service(settings, clients),
                publisher=EventPublisher(clients("events"), settings.event_bus_name),
                run_once=run_once,
                idempotency_config=config,
            )
        return self._dependencies
