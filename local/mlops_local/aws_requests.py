"""What reaches the embedded AWS: every request named (service and operation), and faults on demand.

The embedded AWS serves every boto3 client in the process, the functions' included, so a WSGI layer in
front of moto sees each call without touching the code that makes it:

    with cloud.recording_aws_requests() as requests:
        cloud.invoke("ModelDeployerFunction", event)
    [r for r in requests if r.mutating]          # e.g. AwsRequest("sagemaker", "CreateEndpoint")

    with cloud.failing_aws_requests(rate=0.2, services={"sagemaker", "s3", "dynamodb"}) as faults:
        cloud.settle()                           # one request in five fails: throttled, or a 5xx
    faults.injected                              # the requests that were failed, in order

A fault is answered the way the service answers it (a JSON `ThrottlingException` for SageMaker, S3's XML
`SlowDown` with 503, and so on), so botocore's retries treat it exactly as they treat AWS's. A fault
`before` the service never reaches moto (throttling, a 503 at the front door); one `after` it is a 500
answered once moto has done the work: the call took effect but the caller cannot know (AWS's "it may
have succeeded"). While faults are on, retry back-off takes no time: the local cloud compresses time here
as it does for Lambda's retries.

An `authorizer` (the local cloud's IAM enforcement, `mlops_local.iam`) sees each request first and may
refuse it: the refusal is answered in the protocol's error shape, and moto never sees the request.
"""

from __future__ import annotations

import io
import json
import random
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from unittest import mock
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from botocore.retries.bucket import TokenBucket
from botocore.retries.standard import ExponentialBackoff
from botocore.retryhandler import RetryHandler

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Operations that only read, by the prefix of their name; everything else changes something (PutEvents
# included: an event is a side effect). REST calls (S3, Lambda) are judged by their HTTP method.
READ_ONLY_PREFIXES = (
    "BatchDescribe",
    "BatchGet",
    "Describe",
    "Get",
    "Head",
    "List",
    "Lookup",
    "Query",
    "Scan",
    "Search",
    "Select",
)
READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_SMITHY_RPC_PATH = re.compile(r"^/service/[^/]+/operation/([^/]+)$")


@dataclass(frozen=True)
class AwsRequest:
    service: str  # the signing name, e.g. "sagemaker", "s3", "dynamodb", "events"
    operation: str  # e.g. "CreateEndpoint"; REST calls: "PUT /bucket/key"
    mutating: bool


@dataclass(frozen=True)
class Fault:
    """How an injected failure is answered."""

    status: int
    code: str
    when: str  # "before" moto handles the request, or "after" it did (the response is lost)


THROTTLING = {
    "sagemaker": Fault(400, "ThrottlingException", "before"),
    "dynamodb": Fault(400, "ThrottlingException", "before"),
    "s3": Fault(503, "SlowDown", "before"),
}
UNAVAILABLE = Fault(503, "ServiceUnavailable", "before")
INTERNAL_ERROR_AFTER_SUCCESS = Fault(500, "InternalFailure", "after")


@dataclass
class FaultPlan:
    """Fail `rate` of the requests to `services`, choosing the kind among `kinds` (seeded: reproducible)."""

    rate: float
    services: frozenset[str]
    kinds: tuple[str, ...] = ("throttling", "unavailable")
    seed: int = 0
    injected: list[tuple[AwsRequest, Fault]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def fault_for(self, request: AwsRequest) -> Fault | None:
        if request.service not in self.services or self._random.random() >= self.rate:
            return None
        kind = self._random.choice(self.kinds)
        if kind == "throttling":
            fault = THROTTLING.get(request.service, UNAVAILABLE)
        elif kind == "internal-error-after-success":
            fault = INTERNAL_ERROR_AFTER_SUCCESS
        else:
            fault = UNAVAILABLE
        self.injected.append((request, fault))
        return fault


class AwsRequestLayer:
    """WSGI middleware in front of moto: names each request, records it, and fails it when told to."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._recorders: list[list[AwsRequest]] = []
        self._fault_plan: FaultPlan | None = None
        # Decides whether a request may reach moto (IAM enforcement): None, or how it is refused.
        self.authorizer: Callable[[dict[str, Any], Callable[[], bytes]], Refusal | None] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = _named(environ)
        with self._lock:
            for recorder in self._recorders:
                recorder.append(request)
        if self.authorizer is not None:
            refusal = self.authorizer(environ, lambda: _read_body(environ))
            if refusal is not None:
                return _refusal_response(environ, refusal, start_response)
        with self._lock:
            fault = self._fault_plan.fault_for(request) if self._fault_plan else None
        if fault is None:
            return self._app(environ, start_response)
        if fault.when == "after":
            body = b"".join(self._app(environ, lambda *_args, **_kwargs: None))
            del body  # moto did the work; its answer is lost on the way back
        return _error_response(environ, fault, start_response)

    @contextmanager
    def recording(self) -> Iterator[list[AwsRequest]]:
        requests: list[AwsRequest] = []
        with self._lock:
            self._recorders.append(requests)
        try:
            yield requests
        finally:
            with self._lock:
                self._recorders.remove(requests)

    @contextmanager
    def failing(self, plan: FaultPlan) -> Iterator[FaultPlan]:
        with self._lock:
            if self._fault_plan is not None:
                raise RuntimeError("faults are already being injected")
            self._fault_plan = plan
        try:
            with _retries_without_waiting():
                yield plan
        finally:
            with self._lock:
                self._fault_plan = None


def is_mutating(operation: str) -> bool:
    method, _, _path = operation.partition(" ")
    if method.isupper() and _path.startswith("/"):
        return method not in READ_ONLY_METHODS
    return not operation.startswith(READ_ONLY_PREFIXES)


def _named(environ: dict[str, Any]) -> AwsRequest:
    authorization = environ.get("HTTP_AUTHORIZATION", "") or environ.get("QUERY_STRING", "")
    scope = _CREDENTIAL_SCOPE.search(authorization.replace("%2F", "/"))
    service = scope.group(1) if scope else "unknown"
    operation = _operation(environ)
    return AwsRequest(service, operation, is_mutating(operation))


def _operation(environ: dict[str, Any]) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:  # JSON protocols: "SageMaker.CreateEndpoint", "DynamoDB_20120810.PutItem"
        return str(target).rsplit(".", 1)[-1]
    path = environ.get("PATH_INFO", "/")
    smithy = _SMITHY_RPC_PATH.match(path)
    if smithy:  # Smithy RPC v2 (CloudWatch): /service/{service}/operation/{operation}
        return smithy.group(1)
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if not action and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        body = _read_body(environ)
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    if action:  # query protocol (STS, CloudFormation, SQS's older clients)
        return str(action[0])
    return f"{environ.get('REQUEST_METHOD', 'GET')} {path}"


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, put back so that moto reads it as if nobody had."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return bytes(body)


def _error_response(environ: dict[str, Any], fault: Fault, start_response: Callable[..., Any]) -> list[bytes]:
    if environ.get("HTTP_X_AMZ_TARGET"):
        body = json.dumps({"__type": fault.code, "message": "injected by the local cloud"}).encode()
        content_type = "application/x-amz-json-1.1"
    else:
        body = (
            f"<Error><Code>{fault.code}</Code><Message>injected by the local cloud</Message>"
            f"<RequestId>local-fault</RequestId></Error>"
        ).encode()
        content_type = "application/xml"
    reason = {400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}[fault.status]
    start_response(
        f"{fault.status} {reason}",
        [("Content-Type", content_type), ("Content-Length", str(len(body)))],
    )
    return [body]


class Refusal(Protocol):
    """A request refused before moto sees it (IAM): the service's error code and AWS's message."""

    @property
    def service(self) -> str: ...

    @property
    def code(self) -> str: ...

    @property
    def message(self) -> str: ...


def _refusal_response(
    environ: dict[str, Any], refusal: Refusal, start_response: Callable[..., Any]
) -> list[bytes]:
    """The refusal in the protocol's error shape, so that botocore raises ClientError with its code."""
    headers = [("x-amzn-RequestId", "local-iam")]
    if environ.get("HTTP_X_AMZ_TARGET"):  # JSON protocols
        body = json.dumps({"__type": refusal.code, "message": refusal.message}).encode()
        status = "400 Bad Request"
        headers += [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", refusal.code)]
        if refusal.service == "cloudwatch":  # JSON with the query protocol's error codes
            headers.append(("x-amzn-query-error", f"{refusal.code};Sender"))
    elif refusal.service == "s3":
        body = (
            f"<Error><Code>{refusal.code}</Code><Message>{escape(refusal.message)}</Message>"
            f"<RequestId>local-iam</RequestId></Error>"
        ).encode()
        status = "403 Forbidden"
        headers.append(("Content-Type", "application/xml"))
    elif environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):  # query
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{refusal.code}</Code>"
            f"<Message>{escape(refusal.message)}</Message></Error><RequestId>local-iam</RequestId>"
            f"</ErrorResponse>"
        ).encode()
        status = "403 Forbidden"
        headers.append(("Content-Type", "text/xml"))
    else:  # REST JSON
        body = json.dumps({"message": refusal.message}).encode()
        status = "403 Forbidden"
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", refusal.code)]
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return [body]


@contextmanager
def _retries_without_waiting() -> Iterator[None]:
    """botocore's back-off and its adaptive client-side rate limiter, with their waits taken out.

    The rate limiter's token bucket, not the limiter's `on_sending_request`: a client registers that as
    a bound method when it is created, so a client made before the block (a warm function's) would keep
    the original and sleep while its bucket refills."""
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(ExponentialBackoff, "delay_amount", lambda self, context: 0))
        stack.enter_context(
            mock.patch.object(TokenBucket, "acquire", lambda self, amount=1, block=True: True)
        )
        legacy = RetryHandler.__call__  # clients in botocore's default ("legacy") retry mode

        def retry_at_once(self: RetryHandler, *args: Any, **kwargs: Any) -> Any:
            delay = legacy(self, *args, **kwargs)
            return 0 if delay else delay

        stack.enter_context(mock.patch.object(RetryHandler, "__call__", retry_at_once))
        yield
