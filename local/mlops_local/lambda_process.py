"""One Lambda invocation in a Python process of its own: ``python lambda_process.py SPEC``.

The local cloud runs its functions in its own process, one invocation at a time (`runtime`). A
function that invokes a function synchronously while it runs (the endpoint tester starting the workers
of a load phase: Lambda Invoke of itself) needs invocations that run at the same time as the one that
made them, each with its own interpreter and GIL, as Lambda's sandboxes are. `FunctionRuntime.
invoke_in_own_process` starts this module with SPEC, a JSON file naming the handler file, the event and
the context, in the function's environment (its deployed variables, the variables Lambda sets, its
execution role's credentials, the embedded AWS's endpoint URLs). It runs as a script, not as a module of
the package, so the process imports only the standard library and the function's code, as Lambda's
does (the package would bring the whole local cloud, moto included: seconds of CPU per invocation).
It loads the handler module,
calls it and writes ``{"result": ...}`` or ``{"error": {"type", "message", "stack_trace"}}`` to the
SPEC's ``output`` file. What the function prints is its log.
"""

import importlib.util
import json
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ProcessContext:
    """The context object Lambda passes to a Python handler."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float  # time.time() when the function times out (the parent's clock is the same)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


def run(spec: dict[str, Any]) -> dict[str, Any]:
    for path in spec["paths"]:
        sys.path.append(path)
    try:
        module_spec = importlib.util.spec_from_file_location("app", spec["handler_file"])
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"Unable to import module from {spec['handler_file']}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules["app"] = module
        module_spec.loader.exec_module(module)
        handler = getattr(module, spec["handler_name"])
        result = handler(spec["event"], ProcessContext(**spec["context"]))
        return {"result": json.loads(json.dumps(result))}
    except Exception as error:
        return {
            "error": {
                "type": type(error).__name__,
                "message": str(error),
                "stack_trace": traceback.format_tb(error.__traceback__),
            }
        }


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    outcome = run(spec)
    Path(spec["output"]).write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
