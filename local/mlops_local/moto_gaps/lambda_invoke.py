"""Lambda Invoke of a stack's function: the function really runs.

moto without Docker answers every Invoke with a canned payload ("Simple Lambda happy path OK"). The
local cloud registers a runner per account and region (`register`); a synchronous (``RequestResponse``)
Invoke of a function it deploys then runs that function in a process of its own
(`FunctionRuntime.invoke_in_own_process`) and answers with its result, or with its error payload and
``X-Amz-Function-Error: Unhandled``, as Lambda does (Lambda API Reference, Invoke: "If there is an
error in the function, the response contains FunctionError"). Other invocation types, and functions the
local cloud does not run, keep moto's answer. The call is authorized first, as every call is
(lambda:InvokeFunction on the function's ARN).
"""

import json
from collections.abc import Callable
from typing import Any

from moto.awslambda.models import LambdaBackend

# (function name or ARN, event) -> (payload, function error), or None when the function is not one the
# local cloud runs.
Runner = Callable[[str, Any], tuple[bytes, bool] | None]
_runners: dict[tuple[str, str], Runner] = {}


def register(account: str, region: str, runner: Runner) -> Callable[[], None]:
    """Run Invoke of `account`'s functions in `region` with `runner`; the returned callable undoes it."""
    _runners[(account, region)] = runner

    def unregister() -> None:
        _runners.pop((account, region), None)

    return unregister


def patch() -> None:
    original = LambdaBackend.invoke

    def invoke(  # noqa: PLR0917 - moto's signature
        self: LambdaBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> str | bytes | None:
        runner = _runners.get((self.account_id, self.region_name))
        synchronous = headers.get("X-Amz-Invocation-Type", "RequestResponse") == "RequestResponse"
        answer = runner(function_name, json.loads(body or "{}")) if runner and synchronous else None
        if answer is None:
            return original(self, function_name, qualifier, body, headers, response_headers)
        payload, function_error = answer
        if function_error:
            response_headers["x-amz-function-error"] = "Unhandled"
        return payload

    LambdaBackend.invoke = invoke  # type: ignore[method-assign]
