"""`python -m mlops_local`: run the control plane locally.

invoke FUNCTION --event FILE   deploy, call one function, print its logs and its result (sam local invoke)
send --event FILE              deploy, put the event on its bus, deliver and cascade, print the timeline
demo [--scenario S]            the narrated demo, the same as `python -m mlops_demo` (package mlops_demo)

Before `invoke` and `send` run, what the sample events of events/ name is made to exist (project
`demo`, version 1 of `demo-dev` approved: `mlops_local.samples`), unless `--empty` or `--template`.
A mistake in the command (a missing or malformed event file, a function the template does not have)
is one line on stderr and exit status 2.
"""

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlops_demo.cli import add_arguments as add_demo_arguments

from mlops_local import samples
from mlops_local.cfn_yaml import load_template
from mlops_local.cloud import LocalCloud
from mlops_local.deployment import DEFAULT_TEMPLATE
from mlops_local.errors import LocalCloudError

PROG = "python -m mlops_local"
USAGE_ERROR = 2


class UsageError(Exception):
    """What the command line got wrong, said in one line."""


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    if arguments.command == "demo":
        from mlops_demo.cli import main as demo  # noqa: PLC0415 - the demo is a package of its own

        return demo(["--scenario", arguments.scenario])
    try:
        event = _read_event(arguments.event)
        if arguments.command == "invoke":
            _check_function(arguments.template, arguments.function)
        elif not isinstance(event, dict):
            raise UsageError(
                f"the event in {arguments.event} is not a JSON object; `send` puts events on a bus"
            )
        with LocalCloud(arguments.template) as cloud:
            if not arguments.empty and arguments.template.resolve() == DEFAULT_TEMPLATE.resolve():
                for line in samples.prepare(cloud):
                    print(f"prepared: {line}", file=sys.stderr)
            if arguments.command == "invoke":
                return _invoke(cloud, arguments.function, event)
            return _send(cloud, event, arguments.bus)
    except (UsageError, LocalCloudError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return USAGE_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    deployed = argparse.ArgumentParser(add_help=False)
    deployed.add_argument(
        "--template", type=Path, default=DEFAULT_TEMPLATE, help=f"SAM template (default: {DEFAULT_TEMPLATE})"
    )
    deployed.add_argument("--event", type=Path, required=True, help="JSON file with the event")
    deployed.add_argument(
        "--empty",
        action="store_true",
        help="start from an empty stack: do not make what the sample events of events/ name",
    )

    invoke = commands.add_parser(
        "invoke", parents=[deployed], help="call one function, like sam local invoke"
    )
    invoke.add_argument(
        "function", help="the function's logical ID in the template, e.g. ModelDeployerFunction"
    )
    send = commands.add_parser("send", parents=[deployed], help="route an event like EventBridge and cascade")
    send.add_argument(
        "--bus",
        help="the bus to put the event on (default: the application bus for `mlops.*` sources, "
        "where the control plane's events travel; the default bus for AWS's events)",
    )
    demo_command = commands.add_parser(
        "demo", help="both scenarios, narrated and checked (the same as python -m mlops_demo)"
    )
    add_demo_arguments(demo_command)
    return parser


def _read_event(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read the event file {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the event file {path} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"the event file {path} is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}"
        ) from None


def _check_function(template: Path, function: str) -> None:
    """Refuse a function the template does not declare before deploying anything (a typo costs no wait)."""
    try:
        resources = load_template(template).get("Resources", {})
    except OSError as error:
        raise UsageError(f"cannot read the template {template}: {error.strerror or error}") from None
    functions = sorted(
        name
        for name, resource in resources.items()
        if resource.get("Type") in ("AWS::Serverless::Function", "AWS::Lambda::Function")
    )
    if function not in functions:
        close = difflib.get_close_matches(function, functions, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UsageError(f"{template} has no function {function!r}; {hint}it has {', '.join(functions)}")


def _invoke(cloud: LocalCloud, function: str, event: Any) -> int:
    """Logs on stderr and the response on stdout, as `sam local invoke` prints them; 1 if it raised.

    A CloudFormation custom resource request is sent with a ResponseURL served by the local cloud
    (the file's own URL would be AWS's), and the answer the function PUT there is printed too.
    """
    if _is_custom_resource_request(event):
        answer = cloud.request_custom_resource(
            function,
            event["RequestType"],
            {
                key: value
                for key, value in event.get("ResourceProperties", {}).items()
                if key != "ServiceToken"
            },
            physical_id=event.get("PhysicalResourceId"),
            old_properties=_without_service_token(event["OldResourceProperties"])
            if "OldResourceProperties" in event
            else None,
            logical_id=event.get("LogicalResourceId", "Project"),
            resource_type=event.get("ResourceType", "Custom::SageMakerProject"),
        )
        invocation = answer.invocation
        print(json.dumps({"CloudFormationAnswer": answer.answer}, indent=2))
    else:
        invocation = cloud.invoke(function, event)
    for line in invocation.logs:
        print(line if isinstance(line, str) else json.dumps(line), file=sys.stderr)
    print(json.dumps(invocation.response, indent=2))
    return 0 if invocation.succeeded else 1


def _without_service_token(properties: dict[str, Any]) -> dict[str, Any]:
    """Resource properties as the template gives them (the local cloud adds its own ServiceToken)."""
    return {key: value for key, value in properties.items() if key != "ServiceToken"}


def _is_custom_resource_request(event: Any) -> bool:
    return isinstance(event, dict) and "RequestType" in event and "ResponseURL" in event


def _send(cloud: LocalCloud, event: Any, bus: str | None) -> int:
    """The timeline on stdout; 1 if a function failed on every attempt."""
    if bus is None:
        bus = cloud.bus_for(event)
    trace = cloud.send(event, bus=bus)
    print(trace.timeline())
    return 1 if trace.failures() else 0
