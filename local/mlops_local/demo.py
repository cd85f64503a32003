"""`make demo`: the control plane's first job, told step by step on the embedded cloud.

A data scientist's pipeline registers a model version in ``demo-dev``; someone approves it; the
control plane deploys it to endpoint ``demo-dev``, which comes ``InService``. Every step is
checked, and the demo exits non-zero if one did not happen.
"""

from __future__ import annotations

import io
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from mlops_local import LocalCloud

PROJECT = "demo"
GROUP = ENDPOINT = f"{PROJECT}-dev"
ARTIFACT_BUCKET = "mlops-demo-artifacts"
ARTIFACT_KEY = "demo/dev/model.tar.gz"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
COMMIT_ID = "5a2a5b1c8e6f3d1f0a7b4c9d2e8f1a3b5c7d9e0f"


@dataclass
class Check:
    description: str
    passed: bool


def _model_artifact() -> bytes:
    """A small model.tar.gz, as a training job would leave in S3."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        payload = b'{"model": "demo", "coefficients": [0.4, -1.2, 0.7]}'
        info = tarfile.TarInfo("model.json")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def _say(step: str, text: str) -> None:
    heading = f"\033[1m{step}\033[0m" if sys.stdout.isatty() else step
    print(f"\n{heading} {text}")


def run(out: Callable[[str], None] = print) -> int:
    started = time.perf_counter()
    checks: list[Check] = []

    def check(description: str, passed: bool) -> None:
        checks.append(Check(description, passed))

    _say("1.", "Deploying template.yaml into the embedded AWS (SAM transform, then CloudFormation)...")
    with LocalCloud() as cloud:
        out(f"   stack {cloud.stack_name!r} is up: functions {', '.join(sorted(cloud.functions))}")
        sagemaker = cloud.session.client("sagemaker")
        s3 = cloud.session.client("s3")

        _say("2.", f"A training pipeline uploads its model and registers version 1 in {GROUP!r}.")
        s3.create_bucket(Bucket=ARTIFACT_BUCKET)
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=ARTIFACT_KEY, Body=_model_artifact())
        sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        package_arn = sagemaker.create_model_package(
            ModelPackageGroupName=GROUP,
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [
                    {"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{ARTIFACT_BUCKET}/{ARTIFACT_KEY}"}
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            MetadataProperties={"CommitId": COMMIT_ID, "Repository": "demo-model"},
        )["ModelPackageArn"]
        registered = cloud.settle()
        out(registered.timeline())
        check("registration reaches no deployer (it is not approved yet)", not registered.invocations())

        _say("3.", f"A reviewer approves {package_arn.rsplit('/', 2)[-2]}/1 in the Model Registry.")
        sagemaker.update_model_package(ModelPackageArn=package_arn, ModelApprovalStatus="Approved")
        approved = cloud.settle()
        out(approved.timeline())

        started_events = approved.events(detail_type="Deployment Started")
        check("the deployer emitted Deployment Started", len(started_events) == 1)
        in_service = [
            event
            for event in approved.events(detail_type="SageMaker Endpoint State Change")
            if event["detail"]["EndpointStatus"] == "IN_SERVICE"
        ]
        check(f"SageMaker Endpoint State Change IN_SERVICE was emitted for {ENDPOINT}", len(in_service) == 1)

        _say("4.", "What now runs in the embedded SageMaker:")
        endpoint = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
        config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        variant = config["ProductionVariants"][0]
        model = sagemaker.describe_model(ModelName=variant["ModelName"])
        tags = {
            t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"]
        }
        serving = model["Containers"][0]["ModelPackageName"]
        out(f"   endpoint  {ENDPOINT}: {endpoint['EndpointStatus']}")
        instances = f"{variant['InitialInstanceCount']} x {variant['InstanceType']}"
        out(f"   config    {config['EndpointConfigName']}: {instances}")
        out(f"   model     {model['ModelName']} from {serving}")
        for key, value in sorted(tags.items()):
            out(f"   tag       {key} = {value}")
        check(f"endpoint {ENDPOINT} is InService", endpoint["EndpointStatus"] == "InService")
        check("the endpoint serves the approved version", serving == package_arn)
        check(
            "the endpoint carries the contract's tags",
            tags.get("mlops:project") == PROJECT
            and tags.get("mlops:stage") == "dev"
            and tags.get("mlops:managed-by") == cloud.stack_name
            and tags.get("mlops:model-package-arn") == package_arn
            and tags.get("mlops:commit-id") == COMMIT_ID,
        )

        _say("5.", "EventBridge delivers at least once: the same approval arrives again.")
        [approval] = approved.events(detail_type="SageMaker Model Package State Change")
        again = cloud.send(approval)
        out(again.timeline())
        check(
            "the duplicate changed nothing",
            not again.events(detail_type="Deployment Started")
            and sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]
            == endpoint["EndpointConfigName"],
        )

    _say("Checks", f"({time.perf_counter() - started:.1f} s)")
    for item in checks:
        out(f"   {'ok  ' if item.passed else 'FAIL'} {item.description}")
    failed = [item for item in checks if not item.passed]
    out(
        "\nThe control plane did everything it should." if not failed else f"\n{len(failed)} check(s) failed."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run())
