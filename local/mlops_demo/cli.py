"""`python -m mlops_demo` (= `make demo`): the demo's two scenarios, told and checked; 1 if a check failed."""

import argparse
from collections.abc import Sequence

SCENARIO_CHOICES = ["baseline", "advanced", "batch", "all"]


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    from mlops_demo import run  # noqa: PLC0415 - the story (and the local cloud) only when it is told

    return run(scenario=arguments.scenario)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario",
        choices=SCENARIO_CHOICES,
        default="all",
        help="tell one scenario, or both (default: all); the exit status is 1 if any check failed",
    )


def parser(prog: str = "python -m mlops_demo") -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0].split(": ", 1)[1])
    add_arguments(result)
    return result
