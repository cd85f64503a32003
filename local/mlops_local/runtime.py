"""An in-process Lambda runtime: run a function's handler the way Lambda would, and record what happened.

Each handler module is loaded from its file under a module name unique to the function and to the
runtime (one per LocalCloud), because handlers cache clients and settings at their first call: a new
cloud must get a cold start, as a new deployment does. During a call, os.environ is the function's
deployed environment plus the variables Lambda sets, and everything the function prints or logs
through Powertools is captured as its log lines.

Each function calls AWS with credentials of its own execution role, as Lambda gives them (in
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN). Lambda keeps a process per function,
so what a library caches for the process (boto3's default session, Powertools Parameters' default
providers) belongs to one function there; here the functions share the process, so each function's
copy of those caches is put in place for its invocations and taken out afterwards: a client built by
one function is never used with another function's identity.
"""

import importlib.util
import io
import itertools
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

from mlops_local.environment import patched_environ
from mlops_local.functions import DeployedFunction

_runtime_ids = itertools.count(1)
# One invocation at a time in this process, whatever the thread (a function URL is served from a
# server thread): each invocation sets the process's environment to its function's, and two at once
# would mix them up and leave one's variables behind.
one_invocation_at_a_time = threading.RLock()


@dataclass(frozen=True)
class InvocationError:
    """An error the function raised, as Lambda reports it (errorType, errorMessage, stackTrace)."""

    type: str
    message: str
    stack_trace: tuple[str, ...] = ()


@dataclass(frozen=True)
class Invocation:
    """One call of one function: what it got, what it returned or raised, what it logged and emitted."""

    function: str  # logical ID
    event: Any
    request_id: str
    result: Any = None
    error: InvocationError | None = None
    logs: tuple[Any, ...] = ()  # one entry a line: parsed JSON where the line is JSON, else the text
    duration_ms: float = 0.0
    emitted: tuple[dict[str, Any], ...] = ()  # events the function put on a bus with PutEvents
    attempt: int = 1

    @property
    def succeeded(self) -> bool:
        return self.error is None

    @property
    def response(self) -> Any:
        """What Lambda answers the caller: the result, or the error payload of an unhandled error."""
        if self.error is None:
            return self.result
        return {
            "errorMessage": self.error.message,
            "errorType": self.error.type,
            "stackTrace": list(self.error.stack_trace),
        }


@dataclass(frozen=True)
class LambdaContext:
    """The context object Lambda passes to a Python handler."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float = field(repr=False)  # time.monotonic() when the function times out
    identity: Any = None
    client_context: Any = None
    tenant_id: str | None = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class _LambdaRuntimeError(Exception):
    """An error of the runtime rather than of the function's code (module or handler not found)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class FunctionRuntime:
    """Runs the handlers of one cloud's functions in this process."""

    def __init__(
        self, region: str, credentials: Callable[[DeployedFunction], Mapping[str, str]] | None = None
    ) -> None:
        self._region = region
        self._credentials = credentials  # the function's execution role's, as Lambda sets them
        self._function_credentials: dict[str, Mapping[str, str]] = {}
        self._process_caches: dict[str, _ProcessCaches] = {}
        self._id = next(_runtime_ids)
        self._handlers: dict[str, Callable[[Any, LambdaContext], Any]] = {}
        self._module_names: list[str] = []
        self._added_paths: list[str] = []

    def invoke(self, function: DeployedFunction, event: Any, *, attempt: int = 1) -> Invocation:
        request_id = str(uuid.uuid4())
        payload = json.loads(json.dumps(event))  # the function gets JSON, as from Lambda
        context = self._context(function, request_id)
        started = time.perf_counter()
        with (
            one_invocation_at_a_time,
            patched_environ(self._lambda_environment(function, context)),
            self._own_process_caches(function),
            _captured_output(function.environment.get("POWERTOOLS_SERVICE_NAME")) as output,
        ):
            result, error = self._run(function, payload, context)
        return Invocation(
            function=function.logical_id,
            event=event,
            request_id=request_id,
            result=result,
            error=error,
            logs=_log_lines(output.getvalue()),
            duration_ms=(time.perf_counter() - started) * 1000,
            attempt=attempt,
        )

    def invoke_in_own_process(self, function: DeployedFunction, event: Any) -> Invocation:
        """One invocation in a new Python process (`mlops_local.lambda_process`), as Lambda runs an
        invocation in a sandbox of its own: for an invocation made while another runs (a function that
        invokes a function synchronously), which this process's one-at-a-time runtime cannot run at the
        same time. Its environment is the function's as `invoke` sets it, over this process's (the
        embedded AWS's endpoint URLs); it starts cold. A process still running at the function's timeout
        is stopped, and the invocation fails as Lambda's does (``Sandbox.Timedout``)."""
        request_id = str(uuid.uuid4())
        context = self._context(function, request_id)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="mlops-local-invocation-") as directory:
            spec_file, output_file = Path(directory) / "spec.json", Path(directory) / "output.json"
            spec_file.write_text(
                json.dumps(
                    {
                        "paths": [str(function.code_dir), *map(str, function.layer_dirs)],
                        "handler_file": str(function.handler_file),
                        "handler_name": function.handler_name,
                        "event": event,
                        "output": str(output_file),
                        "context": {
                            "function_name": context.function_name,
                            "function_version": context.function_version,
                            "invoked_function_arn": context.invoked_function_arn,
                            "memory_limit_in_mb": context.memory_limit_in_mb,
                            "aws_request_id": request_id,
                            "log_group_name": context.log_group_name,
                            "log_stream_name": context.log_stream_name,
                            "deadline": time.time() + function.timeout_seconds,
                        },
                    }
                )
            )
            environment = {**os.environ, **self._lambda_environment(function, context)}
            environment.pop("PYTHONPATH", None)  # the function's code and layers come from the spec
            try:
                finished = subprocess.run(
                    [sys.executable, str(Path(__file__).with_name("lambda_process.py")), str(spec_file)],
                    env=environment,
                    capture_output=True,
                    text=True,
                    timeout=function.timeout_seconds,
                    check=False,
                )
                logs, outcome = finished.stdout + finished.stderr, _process_outcome(output_file)
            except subprocess.TimeoutExpired as expired:
                logs = str(expired.stdout or "") + str(expired.stderr or "")
                outcome = {"error": {"type": "Sandbox.Timedout", "message": "Task timed out"}}
        error = outcome.get("error")
        return Invocation(
            function=function.logical_id,
            event=event,
            request_id=request_id,
            result=outcome.get("result"),
            error=None
            if error is None
            else InvocationError(error["type"], error["message"], tuple(error.get("stack_trace", ()))),
            logs=_log_lines(logs),
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def _run(
        self, function: DeployedFunction, payload: Any, context: LambdaContext
    ) -> tuple[Any, InvocationError | None]:
        """The handler's JSON result, or the error Lambda would report instead."""
        try:
            returned = self._handler(function)(payload, context)
        except _LambdaRuntimeError as runtime_error:
            return None, InvocationError(runtime_error.error_type, str(runtime_error))
        except Exception as exception:
            return None, InvocationError(
                type(exception).__name__, str(exception), tuple(traceback.format_tb(exception.__traceback__))
            )
        try:
            return json.loads(json.dumps(returned)), None
        except (TypeError, ValueError) as marshal_error:
            return None, InvocationError(
                "Runtime.MarshalError", f"Unable to marshal response: {marshal_error}"
            )

    def close(self) -> None:
        """Forget this runtime's handler modules and the layer paths it added."""
        for name in self._module_names:
            sys.modules.pop(name, None)
        for path in self._added_paths:
            if path in sys.path:
                sys.path.remove(path)

    def _context(self, function: DeployedFunction, request_id: str) -> LambdaContext:
        return LambdaContext(
            function_name=function.name,
            function_version="$LATEST",
            invoked_function_arn=function.arn,
            memory_limit_in_mb=function.memory_mb,
            aws_request_id=request_id,
            log_group_name=function.log_group,
            log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
            deadline=time.monotonic() + function.timeout_seconds,
        )

    @contextmanager
    def _own_process_caches(self, function: DeployedFunction) -> Iterator[None]:
        """The function's own boto3 default session and Powertools default providers, for one call."""
        own = self._process_caches.setdefault(function.logical_id, _ProcessCaches())
        previous = _ProcessCaches(boto3.DEFAULT_SESSION, dict(DEFAULT_PROVIDERS))
        own.put_in_place()
        try:
            yield
        finally:
            self._process_caches[function.logical_id] = _ProcessCaches(
                boto3.DEFAULT_SESSION, dict(DEFAULT_PROVIDERS)
            )
            previous.put_in_place()

    def _role_credentials(self, function: DeployedFunction) -> Mapping[str, str]:
        if self._credentials is None:
            return {}
        if function.logical_id not in self._function_credentials:
            self._function_credentials[function.logical_id] = self._credentials(function)
        return self._function_credentials[function.logical_id]

    def _lambda_environment(self, function: DeployedFunction, context: LambdaContext) -> dict[str, str]:
        return {
            **function.environment,
            **self._role_credentials(function),
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": context.function_version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": context.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": context.log_stream_name,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
            "AWS_REGION": self._region,
            "AWS_DEFAULT_REGION": self._region,
            "LAMBDA_TASK_ROOT": str(function.code_dir),
            "_HANDLER": function.handler,
            # What `sam local invoke` sets: Powertools then leaves X-Ray alone (no daemon runs here).
            "AWS_SAM_LOCAL": "true",
        }

    def _handler(self, function: DeployedFunction) -> Callable[[Any, LambdaContext], Any]:
        """The function's handler, loading its module on first use (Lambda's cold start)."""
        if function.logical_id not in self._handlers:
            self._put_layers_on_path(function)
            module = self._load_module(function)
            handler = getattr(module, function.handler_name, None)
            if not callable(handler):
                raise _LambdaRuntimeError(
                    "Runtime.HandlerNotFound",
                    f"Handler '{function.handler_name}' missing on module '{function.handler_file.stem}'",
                )
            self._handlers[function.logical_id] = handler
        return self._handlers[function.logical_id]

    def _put_layers_on_path(self, function: DeployedFunction) -> None:
        for layer_dir in map(str, function.layer_dirs):
            if layer_dir not in sys.path:
                sys.path.append(layer_dir)
                self._added_paths.append(layer_dir)

    def _load_module(self, function: DeployedFunction) -> Any:
        path = function.handler_file
        if not path.is_file():
            raise _LambdaRuntimeError("Runtime.ImportModuleError", f"Unable to import module: no file {path}")
        name = f"_mlops_local_{self._id}_{function.logical_id}_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise _LambdaRuntimeError("Runtime.ImportModuleError", f"Unable to import module from {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pydantic look their module up there
        self._module_names.append(name)
        try:
            spec.loader.exec_module(module)
        except Exception:
            sys.modules.pop(name, None)
            raise
        return module


@dataclass
class _ProcessCaches:
    """What libraries cache per process and Lambda therefore keeps per function."""

    default_session: Any = None  # boto3.DEFAULT_SESSION
    parameter_providers: dict[str, Any] = field(default_factory=dict)  # Powertools Parameters'

    def put_in_place(self) -> None:
        boto3.DEFAULT_SESSION = self.default_session
        DEFAULT_PROVIDERS.clear()
        DEFAULT_PROVIDERS.update(self.parameter_providers)


@contextmanager
def _captured_output(service: str | None) -> Iterator[io.StringIO]:
    """Capture stdout, stderr and the Powertools logger of `service` into one buffer.

    Powertools' StreamHandler keeps the sys.stdout it saw when the Logger was built, so redirecting
    stdout does not reach it: its stream is swapped for the call. A handler created during the call (at
    the module's first import) saw the redirected stdout; it gets the real one afterwards.
    """
    buffer = io.StringIO()
    previous_streams = {handler: handler.stream for handler in _stream_handlers(service)}
    for handler in previous_streams:
        _set_stream(handler, buffer)
    try:
        with redirect_stdout(buffer), redirect_stderr(buffer):
            yield buffer
    finally:
        for handler in _stream_handlers(service):
            previous = previous_streams.get(handler, sys.stdout)
            _set_stream(handler, sys.stdout if getattr(previous, "closed", False) else previous)


def _set_stream(handler: "logging.StreamHandler[Any]", stream: Any) -> None:
    """`handler.setStream(stream)`, which flushes the old stream first, unless that stream was closed
    meanwhile (the sys.stdout a handler got was replaced and closed since, e.g. by an earlier test's
    output capture): then there is nothing to flush."""
    if getattr(handler.stream, "closed", False):
        handler.stream = stream
    else:
        handler.setStream(stream)


def _stream_handlers(logger_name: str | None) -> list["logging.StreamHandler[Any]"]:
    if not logger_name:
        return []
    return [
        handler
        for handler in logging.getLogger(logger_name).handlers
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)
    ]


def _log_lines(output: str) -> tuple[Any, ...]:
    lines: list[Any] = []
    # Lines end at "\n" only, as in CloudWatch Logs: str.splitlines() would also cut a JSON line at a
    # character the event carried in a string value (U+0085, U+2028, a form feed...).
    for line in output.split("\n"):
        if not line.strip():
            continue
        try:
            lines.append(json.loads(line))
        except ValueError:
            lines.append(line)
    return tuple(lines)


def _process_outcome(output_file: Path) -> dict[str, Any]:
    """What `mlops_local.lambda_process` wrote; a process that wrote nothing died (Runtime.ExitError)."""
    if not output_file.is_file():
        return {"error": {"type": "Runtime.ExitError", "message": "the process exited before answering"}}
    outcome: dict[str, Any] = json.loads(output_file.read_text())
    return outcome
