"""The one shape of a CloudFormation custom-resource handler, so the handler stays a few lines long.

A :class:`CustomResourceFunction` is the Lambda handler. CloudFormation waits for an answer PUT to
the request's pre-signed ``ResponseURL``; without one the stack hangs for an hour. So:

- crhelper sends the answer, SUCCESS or FAILED, also when the operation raises and, from a timer,
  just before the Lambda times out;
- an operation raises :class:`InvalidRequestError` (or any error) with a reason a person can act
  on: it becomes the ``Reason`` CloudFormation shows, cut here to 256 characters keeping its
  beginning (crhelper would keep only the end);
- the request's envelope is checked before crhelper sees it (crhelper reads ``StackId``,
  ``RequestId``, ``LogicalResourceId`` and ``RequestType`` before it knows where to answer, and
  would then answer an empty URL forever, or, on a warm Lambda, the previous request's URL):
  without an HTTPS ``ResponseURL`` nothing can be answered, so it is logged and dropped; with one,
  the request is answered FAILED directly, naming what is missing;
- a Delete is never answered FAILED, since a FAILED Delete leaves the stack (and the provisioned
  product) in DELETE_FAILED: an invalid request, a misconfigured function, an operation that raises,
  a failure to publish the domain events, or the timer's answer near the timeout, each becomes
  SUCCESS with nothing (more) deleted, logged and reported in the answer's ``Reason`` and
  ``Data.Notes``, like the operation's own :attr:`ResourceOutcome.notes`;
- dependencies (settings validated from the environment, clients, the service) are built on
  first use, never at import; a misconfigured function answers FAILED naming the variable;
- after a successful operation its domain events are published; logs and metrics go through the
  shared observability module, with the request id as correlation id.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

from aws_lambda_powertools.utilities.typing import LambdaContext
from crhelper import CfnResource
from pydantic import ValidationError

from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.adapters.event_bus import EventPublisher
from mlops_core.contract.custom_resource_request import CustomResourceRequest
from mlops_core.contract.outcome import InvalidRequestError, ResourceOutcome
from mlops_core.observability import MetricUnit, logger, metrics
from mlops_core.settings import ControlPlaneSettings

if TYPE_CHECKING:
    pass

SettingsT = TypeVar("SettingsT", bound=ControlPlaneSettings)
ServiceT = TypeVar("ServiceT")


REQUEST_TYPES = ("Create", "Update", "Delete")
# CloudFormation shows at most 256 characters of a reason (crhelper cuts longer ones to their end).
MAX_REASON_LENGTH = 256
_ENVELOPE = ("StackId", "RequestId", "LogicalResourceId")


def short_reason(text: str, limit: int = MAX_REASON_LENGTH) -> str:
    """``text`` cut to ``limit`` characters, keeping its beginning (where the reason is)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


class _OperationError(RuntimeError):
    """An operation's error, its message cut to what CloudFormation shows."""


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
        self._answer_once: _AnswerOnce | None = None
        self._observed_handle = logger.inject_lambda_context(
            metrics.log_metrics(self._handle), correlation_id_path="RequestId", clear_state=True
        )

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        result: dict[str, Any] = self._observed_handle(event, context)
        return result

    def _handle(self, event: Any, context: LambdaContext) -> dict[str, Any]:
        url = event.get("ResponseURL") if isinstance(event, dict) else None
        if not isinstance(url, str) or not url.startswith("https://"):
            logger.error(
                "Unanswerable custom resource request: it needs an https ResponseURL; dropped",
                extra={"response_url": repr(url)},
            )
            metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
            return {"Status": "FAILED", "Reason": "unanswerable request", "Answered": False}
        assert isinstance(event, dict)
        problem = _envelope_problem(event)
        if problem is not None:
            logger.error(f"Malformed custom resource request: {problem}")
            metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
            reason = short_reason(f"malformed custom resource request: {problem}")
            answered = _answer_directly(url, event, reason)
            return {"Status": "FAILED", "Reason": reason, "Answered": answered}
        helper = self._cfn_helper()
        assert self._answer_once is not None
        self._answer_once.reset(deleting=event["RequestType"] == "Delete")
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
            self._answer_once = _AnswerOnce(getattr(helper, "_send"))  # noqa: B009 - not in its stubs
            setattr(helper, "_send", self._answer_once)  # noqa: B010 - crhelper's own sender, wrapped
            self._helper = helper
        return self._helper

    def _operation_for(
        self, request_type: str, helper: CfnResource
    ) -> Callable[[dict[str, Any], LambdaContext], str]:
        def run(event: dict[str, Any], context: LambdaContext) -> str:
            # The id an answer carries until the operation returns its own: crhelper's timer answers
            # with whatever is set (empty, which CloudFormation refuses, if nothing were).
            helper.PhysicalResourceId = (
                event.get("PhysicalResourceId") or f"{self.component}-{event['RequestId']}"
            )
            try:
                try:
                    request = CustomResourceRequest.model_validate(event)
                except ValidationError as error:
                    raise InvalidRequestError(f"malformed custom resource request: {error}") from None
                service, publisher = self._get_dependencies()
                outcome = self._operations[request_type](service, request)
            except Exception as error:
                logger.exception(f"{request_type} failed: {error}")
                metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1)
                if request_type == "Delete":  # never block the stack's deletion: keep everything
                    return _kept(helper, str(helper.PhysicalResourceId), f"nothing deleted: {error}")
                raise _OperationError(short_reason(str(error))) from error
            notes = list(outcome.notes)
            try:
                publisher.publish(outcome.events)
            except Exception as error:
                if request_type != "Delete":
                    logger.exception(f"{request_type}: publishing its events failed: {error}")
                    raise _OperationError(short_reason(f"events not published: {error}")) from error
                notes.append(f"events not published: {error}")
            helper.Data.update(outcome.data)
            if notes:
                reported = short_reason("; ".join(notes))
                helper.Reason = reported
                helper.Data["Notes"] = reported
                logger.warning(f"{request_type}: SUCCESS, with notes: {'; '.join(notes)}")
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


def _kept(helper: CfnResource, physical_id: str, note: str) -> str:
    """A Delete that could not act: SUCCESS, the note in ``Reason`` and ``Data.Notes``, logged."""
    reported = short_reason(note)
    helper.Reason = reported
    helper.Data["Notes"] = reported
    logger.warning(f"Delete: SUCCESS, with notes: {note}")
    return physical_id


class _AnswerOnce:
    """crhelper's sender, sending one answer per request: its timer answers FAILED just before the
    Lambda times out, and the operation, if it still ends in time, would answer again (CloudFormation
    takes the first; a second one may contradict it). For a Delete, the timer's FAILED becomes
    SUCCESS (nothing more is deleted), so that the stack's deletion goes on."""

    def __init__(self, send: Callable[..., None]) -> None:
        self._send = send
        self._lock = threading.Lock()
        self._sent = False
        self._deleting = False

    def reset(self, *, deleting: bool) -> None:
        with self._lock:
            self._sent = False
            self._deleting = deleting

    def __call__(self, status: str | None = None, reason: str = "", **kwargs: Any) -> None:
        with self._lock:
            already, self._sent = self._sent, True
            deleting = self._deleting
        if already:
            logger.warning(
                "Not answering again: CloudFormation already has this request's answer "
                "(sent when the Lambda's time was nearly out)"
            )
            return
        if deleting and status == "FAILED":
            logger.warning(f"Delete: answering SUCCESS instead of FAILED ({reason}); nothing more is deleted")
            status, reason = "SUCCESS", short_reason(f"nothing more deleted: {reason}")
        self._send(status, reason, **kwargs)


def _envelope_problem(event: Mapping[str, Any]) -> str | None:
    """What is wrong with the parts of a request crhelper needs before it can answer, if anything."""
    problems = [name for name in _ENVELOPE if not isinstance(event.get(name), str) or not event.get(name)]
    request_type = event.get("RequestType")
    if request_type not in REQUEST_TYPES:
        problems.append(f"RequestType {request_type!r} (expected Create, Update or Delete)")
    return "missing or invalid " + ", ".join(problems) if problems else None


ANSWER_ATTEMPTS = 3


def _answer_directly(url: str, event: Mapping[str, Any], reason: str) -> bool:
    """PUT a FAILED answer to ``url`` (what crhelper would send, without its endless retries)."""
    request_id = str(event.get("RequestId") or "unknown")
    body = json.dumps(
        {
            "Status": "FAILED",
            "Reason": reason,
            "PhysicalResourceId": str(event.get("PhysicalResourceId") or f"invalid-request-{request_id}"),
            "StackId": str(event.get("StackId") or ""),
            "RequestId": request_id,
            "LogicalResourceId": str(event.get("LogicalResourceId") or ""),
            "Data": {},
        }
    )
    split = urlsplit(url)
    path = urlunsplit(("", "", split.path or "/", split.query, ""))
    for attempt in range(1, ANSWER_ATTEMPTS + 1):
        connection = http.client.HTTPSConnection(
            split.netloc, context=ssl.create_default_context(), timeout=10
        )
        try:
            # The pre-signed URL is signed for an empty content type, like crhelper sends.
            connection.request(
                "PUT", path, body=body, headers={"content-type": "", "content-length": str(len(body))}
            )
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException) as error:
            logger.warning(f"Answering the malformed request failed (attempt {attempt}): {error}")
            continue
        finally:
            connection.close()
        if status < 300:
            return True
        logger.warning(f"Answering the malformed request got HTTP {status} (attempt {attempt})")
    logger.error("The malformed request could not be answered; CloudFormation will time out waiting")
    return False
