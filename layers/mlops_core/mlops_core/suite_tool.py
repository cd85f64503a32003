"""Write an endpoint's integration test suite into the config table, from a JSON or YAML file.

    python -m mlops_core.suite_tool check suite.yaml
    python -m mlops_core.suite_tool put churn-dev suite.yaml --table mlops-ConfigTable-XYZ

A project's CI calls ``put`` after each merge, so the suite in the table is the one in the repository.
The file is validated with the suite schema first: a file that breaks it is refused with the exact
field at fault (``cases[1].expect.json[0].path: ...``), exit status 2, and nothing is written.
The table defaults to ``$CONFIG_TABLE_NAME`` (the stack's ``ConfigTableName`` output). YAML needs
PyYAML, which CI installs; the Lambda functions never import this module.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mlops_core.adapters.suite_store import SuiteStore, TableClient
from mlops_core.integration_tests.suites import TestSuite


class SuiteFileError(ValueError):
    """A suite file that cannot be read or breaks the schema; the message names the field at fault."""


def _location(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(suite)"


def parse_suite(document: Any, *, source: str = "suite") -> TestSuite:
    """The suite in ``document``; SuiteFileError listing every field at fault."""
    try:
        return TestSuite.model_validate(document)
    except ValidationError as error:
        problems = [
            f"{source}: {_location(detail['loc'])}: {detail['msg']}"
            for detail in error.errors(include_url=False, include_input=False)
        ]
        raise SuiteFileError("\n".join(problems)) from None


def load_suite_file(path: Path) -> TestSuite:
    try:
        text = path.read_text()
    except OSError as error:
        raise SuiteFileError(f"{path}: {error.strerror}") from None
    try:
        if path.suffix.lower() in {".yaml", ".yml"}:
            import yaml  # noqa: PLC0415 - only the CLI reads YAML

            document = yaml.safe_load(text)
        else:
            document = json.loads(text)
    except Exception as error:
        raise SuiteFileError(
            f"{path}: not valid {path.suffix.lstrip('.').upper() or 'JSON'}: {error}"
        ) from None
    return parse_suite(document, source=str(path))


def write_suite(
    dynamodb: TableClient, table: str, endpoint_name: str, document: Any, *, source: str
) -> TestSuite:
    """Validate ``document`` and store it as ``endpoint_name``'s suite (nothing is written if invalid)."""
    suite = parse_suite(document, source=source)
    SuiteStore(dynamodb, table).put_suite(endpoint_name, suite, source=source)
    return suite


def main(argv: Sequence[str] | None = None, *, dynamodb: Any = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_core.suite_tool", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate a suite file")
    check.add_argument("file", type=Path)
    put = commands.add_parser("put", help="validate a suite file and write it as the endpoint's suite")
    put.add_argument("endpoint", help="endpoint name, {project}-{stage}")
    put.add_argument("file", type=Path)
    put.add_argument("--table", default=os.environ.get("CONFIG_TABLE_NAME"), help="config table name")
    arguments = parser.parse_args(argv)
    try:
        suite = load_suite_file(arguments.file)
    except SuiteFileError as error:
        print(f"refused, nothing written:\n{error}", file=sys.stderr)
        return 2
    summary = f"{len(suite.cases)} cases" + (", a load phase" if suite.load else "")
    if arguments.command == "check":
        print(f"{arguments.file}: valid ({summary})")
        return 0
    if not arguments.table:
        print("no table: pass --table or set CONFIG_TABLE_NAME", file=sys.stderr)
        return 2
    if dynamodb is None:
        import boto3  # noqa: PLC0415

        dynamodb = boto3.client("dynamodb")
    SuiteStore(dynamodb, arguments.table).put_suite(arguments.endpoint, suite, source=str(arguments.file))
    print(f"suite for {arguments.endpoint} written to {arguments.table} ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
