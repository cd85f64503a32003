"""The pipeline's command line: what CI runs on each push, and what you run from a laptop.

    python -m pipelines.run action --branch feature-x        # train / promote / none (what a push does)
    python -m pipelines.run definition --branch feature-x    # the pipeline definition as JSON, no AWS
    python -m pipelines.run upsert --branch dev              # upload the step scripts, create or update
    python -m pipelines.run start --branch dev --commit "$(git rev-parse HEAD)" --wait

Settings come from flags or the environment: ``MLOPS_PROJECT``, ``SAGEMAKER_PIPELINE_ROLE_ARN``,
``ARTIFACT_BUCKET``, ``INPUT_DATA_URI``, ``AWS_REGION``. ``definition`` works with none of them
set (placeholders stand in for the role and the bucket) and prints only the JSON. ``start`` records
the training data and its version on the run: ``INPUT_DATA_URI`` or, unset, the default prefix
``s3://{bucket}/{project}/{stage}/input/``, versioned by its S3 version id, ETag or a digest of every
object under the prefix. A branch that does not train (``prod``, ``main``) is refused with exit
code 2. The SageMaker SDK is imported only by the commands that build a pipeline, so ``action``
answers instantly.
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
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pipelines.stages import BranchError, Target, action_for

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


def dataset_reference(s3: Any, input_data_uri: str | None, default_uri: str) -> tuple[str, str]:
    """The data a run trains on and its version: ``input_data_uri`` or, unset or empty, the
    pipeline's default input prefix. Read from S3 when the run starts, so every registered version
    names exactly the objects it was trained on, never "unversioned"."""
    uri = (input_data_uri or "").strip() or default_uri
    return uri, dataset_version(s3, uri)


def start_parameters(
    *, commit: str, repository: str, branch: str, input_data_uri: str, input_data_version: str
) -> dict[str, str]:
    return {
        "CommitId": commit,
        "Repository": repository,
        "Branch": branch,
        "InputDataUri": input_data_uri,
        "InputDataVersion": input_data_version,
    }


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
    target = Target.for_branch(args.project, args.branch)  # refuses prod and other branches first
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
    return PipelineSettings(target=target, role_arn=role, bucket=bucket, region=region)


def _git(*arguments: str) -> str | None:
    try:
        return subprocess.run(["git", *arguments], check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


@contextmanager
def quiet_sdk(level: int) -> Iterator[None]:
    """Silence log records at ``level`` and below while the SDK builds a pipeline.

    The SDK sets its own loggers' levels (``sagemaker.config`` to INFO, ModelBuilder's to its
    ``log_level``) and one of its modules calls ``logging.basicConfig`` at import, so lowering the
    ``sagemaker`` logger's level is not enough: ``logging.disable`` is. Its notice that a
    ``PipelineSession`` starts no job is expected here, so it is ignored too.
    """
    logging.disable(level)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Running within a PipelineSession")
            yield
    finally:
        logging.disable(logging.NOTSET)


def command_definition(args: argparse.Namespace) -> int:
    settings = _settings(args, offline=True)
    # stdout is the definition (made to be piped); stderr stays empty unless something fails.
    with quiet_sdk(logging.WARNING):
        from pipelines.pipeline import build_pipeline, pipeline_session  # noqa: PLC0415

        definition = build_pipeline(settings, pipeline_session(settings)).definition()
    print(json.dumps(json.loads(definition), indent=2))
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
    with quiet_sdk(logging.INFO):  # its warnings (what the definition leaves out) stay visible
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
    return start_execution(args, settings, boto_session)


def start_execution(args: argparse.Namespace, settings: PipelineSettings, boto_session: Any) -> int:
    """Start the (upserted) pipeline for this commit, with the dataset and its version read now."""
    commit = args.commit or _git("rev-parse", "HEAD") or "uncommitted"
    input_data_uri, input_data_version = dataset_reference(
        boto_session.client("s3"),
        args.input_data_uri or os.environ.get("INPUT_DATA_URI"),
        settings.default_input_uri,
    )
    parameters = start_parameters(
        commit=commit,
        repository=args.repository or Path.cwd().name,
        branch=args.branch.removeprefix("refs/heads/"),
        input_data_uri=input_data_uri,
        input_data_version=input_data_version,
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
            command.add_argument(
                "--input-data-uri",
                help="s3:// object or prefix/ (INPUT_DATA_URI; default: {bucket}/{project}/{stage}/input/)",
            )
            command.add_argument("--wait", action="store_true", help="follow the execution until it ends")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except BranchError as error:
        # e.g. a manual run on prod: a clear refusal, not a traceback
        print(f"{args.command} --branch {args.branch}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
