"""The pipeline's command line: what CI runs on each push, and what you run from a laptop.

    python -m pipelines.run action --branch feature-x        # train / promote / none (what a push does)
    python -m pipelines.run definition --branch feature-x    # the pipeline definition as JSON, no AWS
    python -m pipelines.run upsert --branch dev              # upload the step scripts, create or update
    python -m pipelines.run start --branch dev --commit "$(git rev-parse HEAD)" --wait

Settings come from flags or the environment: ``MLOPS_PROJECT``, ``SAGEMAKER_PIPELINE_ROLE_ARN``,
``ARTIFACT_BUCKET``, ``INPUT_DATA_URI``, ``AWS_REGION``. ``definition`` works with none of them
set (placeholders stand in for the role and the bucket). The SageMaker SDK is imported only by the
commands that build a pipeline, so ``action`` answers instantly.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pipelines.stages import Target, action_for

if TYPE_CHECKING:
    from pipelines.pipeline import PipelineSettings

STEPS_DIR = Path(__file__).resolve().parent.parent / "steps"
PLACEHOLDER_ROLE = "arn:aws:iam::000000000000:role/placeholder-sagemaker-pipeline-role"
PLACEHOLDER_BUCKET = "placeholder-artifact-bucket"
TERMINAL_STATUSES = {"Succeeded", "Failed", "Stopped"}


def dataset_version(s3: Any, uri: str) -> str:
    """A reference to exactly the data a run trains on, recorded on the model version.

    An object: its ``VersionId`` on a versioned bucket, else its ETag. A prefix (ends with ``/``):
    a digest of every object's key and ETag, so any change to any file changes the reference.
    """
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"the input data must be an s3:// URI, not {uri!r}")
    bucket, key = parsed.netloc, parsed.path.lstrip("/")
    if key and not key.endswith("/"):
        head = s3.head_object(Bucket=bucket, Key=key)
        version = head.get("VersionId")
        if version and version != "null":
            return f"version:{version}"
        return f"etag:{head['ETag'].strip(chr(34))}"
    digest = hashlib.sha256()
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
        for item in page.get("Contents", []):
            digest.update(f"{item['Key']}\0{item['ETag']}\n".encode())
            count += 1
    if count == 0:
        raise ValueError(f"no objects under {uri}: upload the training data first")
    return f"etags-sha256:{digest.hexdigest()[:32]}:{count}-objects"


def start_parameters(
    *, commit: str, repository: str, branch: str, input_data_uri: str | None, input_data_version: str | None
) -> dict[str, str]:
    parameters = {"CommitId": commit, "Repository": repository, "Branch": branch}
    if input_data_uri:
        parameters["InputDataUri"] = input_data_uri
    if input_data_version:
        parameters["InputDataVersion"] = input_data_version
    return parameters


def wait_for(
    sagemaker: Any,
    execution_arn: str,
    *,
    poll_seconds: float = 30,
    sleep: Callable[[float], None] = time.sleep,
    echo: Callable[[str], None] = print,
) -> str:
    """Poll an execution, printing each step's status as it changes; return the final status."""
    seen: dict[str, str] = {}
    while True:
        steps = sagemaker.list_pipeline_execution_steps(
            PipelineExecutionArn=execution_arn, SortOrder="Ascending"
        )
        for step in steps.get("PipelineExecutionSteps", []):
            name, status = step["StepName"], step["StepStatus"]
            if seen.get(name) != status:
                seen[name] = status
                reason = f" ({step['FailureReason']})" if step.get("FailureReason") else ""
                echo(f"  {name}: {status}{reason}")
        execution = sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        status = execution["PipelineExecutionStatus"]
        if status in TERMINAL_STATUSES:
            reason = execution.get("FailureReason")
            echo(f"pipeline execution {status}" + (f": {reason}" if reason else ""))
            return str(status)
        sleep(poll_seconds)


def _settings(args: argparse.Namespace, *, offline: bool) -> PipelineSettings:
    region = (
        args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    )
    # The SDK builds a boto3 client while it is imported, which fails without a default region.
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    from pipelines.pipeline import PipelineSettings  # noqa: PLC0415

    role = (
        args.role or os.environ.get("SAGEMAKER_PIPELINE_ROLE_ARN") or (PLACEHOLDER_ROLE if offline else None)
    )
    bucket = args.bucket or os.environ.get("ARTIFACT_BUCKET") or (PLACEHOLDER_BUCKET if offline else None)
    if not role or not bucket:
        raise SystemExit("set SAGEMAKER_PIPELINE_ROLE_ARN and ARTIFACT_BUCKET (or pass --role and --bucket)")
    return PipelineSettings(
        target=Target.for_branch(args.project, args.branch), role_arn=role, bucket=bucket, region=region
    )


def _git(*arguments: str) -> str | None:
    try:
        return subprocess.run(["git", *arguments], check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def command_definition(args: argparse.Namespace) -> int:
    settings = _settings(args, offline=True)
    from pipelines.pipeline import build_pipeline, pipeline_session  # noqa: PLC0415

    pipeline = build_pipeline(settings, pipeline_session(settings))
    print(json.dumps(json.loads(pipeline.definition()), indent=2))
    return 0


def _upsert(args: argparse.Namespace) -> tuple[PipelineSettings, Any]:
    settings = _settings(args, offline=False)
    import boto3  # noqa: PLC0415

    from pipelines.pipeline import SCRIPTS, build_pipeline, pipeline_session  # noqa: PLC0415

    boto_session = boto3.Session(region_name=settings.region)
    s3 = boto_session.client("s3")
    for script in SCRIPTS:
        uri = urlparse(settings.script_uri(script))
        s3.upload_file(str(STEPS_DIR / script), uri.netloc, uri.path.lstrip("/"))
    pipeline = build_pipeline(settings, pipeline_session(settings, boto_session))
    tags = [
        {"Key": "mlops:project", "Value": settings.target.project},
        {"Key": "mlops:stage", "Value": str(settings.target.stage)},
    ]
    pipeline.upsert(
        role_arn=settings.role_arn,
        description=f"Model build of {settings.target.model_package_group}",
        tags=tags,
    )
    target = settings.target
    print(f"upserted pipeline {target.pipeline_name} (registers into {target.model_package_group})")
    return settings, boto_session


def command_upsert(args: argparse.Namespace) -> int:
    _upsert(args)
    return 0


def command_start(args: argparse.Namespace) -> int:
    settings, boto_session = _upsert(args)
    commit = args.commit or _git("rev-parse", "HEAD") or "uncommitted"
    input_data_uri = args.input_data_uri or os.environ.get("INPUT_DATA_URI")
    version = dataset_version(boto_session.client("s3"), input_data_uri) if input_data_uri else None
    parameters = start_parameters(
        commit=commit,
        repository=args.repository or Path.cwd().name,
        branch=args.branch.removeprefix("refs/heads/"),
        input_data_uri=input_data_uri,
        input_data_version=version,
    )
    sagemaker = boto_session.client("sagemaker")
    response = sagemaker.start_pipeline_execution(
        PipelineName=settings.target.pipeline_name,
        PipelineExecutionDisplayName=f"{parameters['Branch']}-{commit[:12]}"[:82].replace("/", "-"),
        PipelineParameters=[{"Name": name, "Value": value} for name, value in parameters.items()],
    )
    arn = response["PipelineExecutionArn"]
    print(f"started {arn}")
    print(json.dumps(parameters, indent=2))
    if not args.wait:
        return 0
    return 0 if wait_for(sagemaker, arn) == "Succeeded" else 1


def command_action(args: argparse.Namespace) -> int:
    print(action_for(args.branch))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m pipelines.run", description=__doc__.split("\n")[0])
    commands = root.add_subparsers(dest="command", required=True)

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text)
        command.set_defaults(handler=handler)
        command.add_argument(
            "--branch", required=True, help="feature-<name> or dev (refs/heads/ is stripped)"
        )
        return command

    add("action", command_action, "what a push to this branch does: train, promote or none")
    for name, handler, help_text in (
        ("definition", command_definition, "print the pipeline definition as JSON (no AWS)"),
        ("upsert", command_upsert, "upload the step scripts and create or update the pipeline"),
        ("start", command_start, "upsert, then start an execution for this branch and commit"),
    ):
        command = add(name, handler, help_text)
        command.add_argument("--project", default=os.environ.get("MLOPS_PROJECT") or Path.cwd().name)
        command.add_argument("--role", help="the pipeline's execution role (SAGEMAKER_PIPELINE_ROLE_ARN)")
        command.add_argument("--bucket", help="artifact bucket (ARTIFACT_BUCKET)")
        command.add_argument("--region", help="AWS region (AWS_REGION)")
        if name == "start":
            command.add_argument("--commit", help="default: git rev-parse HEAD")
            command.add_argument("--repository", help="the repository's name (default: this folder's name)")
            command.add_argument("--input-data-uri", help="s3:// object or prefix/ (INPUT_DATA_URI)")
            command.add_argument("--wait", action="store_true", help="follow the execution until it ends")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # The SDK logs every config lookup at INFO; this command line prints what matters itself.
    logging.getLogger("sagemaker").setLevel(logging.WARNING)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
