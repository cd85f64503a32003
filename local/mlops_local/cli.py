"""`python -m mlops_local`: run the control plane locally.

invoke FUNCTION --event FILE   deploy, call one function, print its logs and its result (sam local invoke)
send --event FILE              deploy, put the event on its bus, deliver and cascade, print the timeline
demo [--scenario S]            both scenarios (baseline, advanced), narrated and checked; 1 if a check failed
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlops_local.cloud import LocalCloud
from mlops_local.deployment import DEFAULT_TEMPLATE


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    if arguments.command == "demo":
        from mlops_local import demo  # noqa: PLC0415 - the demo is only imported to be run

        return demo.run(scenario=arguments.scenario)
    event = _read_event(arguments.event)
    with LocalCloud(arguments.template) as cloud:
        if arguments.command == "invoke":
            return _invoke(cloud, arguments.function, event)
        return _send(cloud, event, arguments.bus)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlops_local", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    deployed = argparse.ArgumentParser(add_help=False)
    deployed.add_argument(
        "--template", type=Path, default=DEFAULT_TEMPLATE, help=f"SAM template (default: {DEFAULT_TEMPLATE})"
    )
    deployed.add_argument("--event", type=Path, required=True, help="JSON file with the event")

    invoke = commands.add_parser(
        "invoke", parents=[deployed], help="call one function, like sam local invoke"
    )
    invoke.add_argument(
        "function", help="the function's logical ID in the template, e.g. ModelDeployerFunction"
    )
    send = commands.add_parser("send", parents=[deployed], help="route an event like EventBridge and cascade")
    send.add_argument(
        "--bus",
        help="the bus to put the event on (default: the stack's own bus for `mlops.*` sources, "
        "where the control plane's events travel; the default bus for AWS's events)",
    )
    demo_command = commands.add_parser("demo", help="both scenarios, narrated and checked")
    demo_command.add_argument(
        "--scenario",
        choices=["baseline", "advanced", "all"],
        default="all",
        help="tell one scenario, or both (default: all); the exit status is 1 if any check failed",
    )
    return parser


def _read_event(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


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
