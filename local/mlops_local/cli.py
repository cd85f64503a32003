"""`python -m mlops_local`: run the control plane locally.

invoke FUNCTION --event FILE   deploy, call one function, print its logs and its result (sam local invoke)
send --event FILE              deploy, put the event on a bus, deliver and cascade, print the timeline
demo                           the whole story, narrated
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

        demo.run()
        return 0
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
    send.add_argument("--bus", default="default", help="the bus to put the event on (default: default)")
    commands.add_parser("demo", help="the whole story, narrated")
    return parser


def _read_event(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _invoke(cloud: LocalCloud, function: str, event: Any) -> int:
    """Logs on stderr and the response on stdout, as `sam local invoke` prints them; 1 if it raised."""
    invocation = cloud.invoke(function, event)
    for line in invocation.logs:
        print(line if isinstance(line, str) else json.dumps(line), file=sys.stderr)
    print(json.dumps(invocation.response, indent=2))
    return 0 if invocation.succeeded else 1


def _send(cloud: LocalCloud, event: Any, bus: str) -> int:
    """The timeline on stdout; 1 if a function failed on every attempt."""
    trace = cloud.send(event, bus=bus)
    print(trace.timeline())
    return 1 if trace.failures() else 0
