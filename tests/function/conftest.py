"""Function tests: a handler against moto's in-process AWS, with the template's environment."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from mlops_local import aws_events, moto_gaps
from mlops_local.embedded_aws import service_models_shared
from mlops_local.endpoints import EndpointLifecycle
from mlops_local.runtime import LambdaContext
from moto import mock_aws

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK = "mlops"
BUS = "mlops-bus"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    """moto (with the local cloud's gap fillers) holding the control plane's tables, and the
    function environment the template sets. The botocore sessions share one loader of service models,
    as in the local cloud."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "mlops-control-plane",
        "STACK_NAME": STACK,
        "EVENT_BUS_NAME": BUS,
        "CONFIG_TABLE_NAME": "mlops-config",
        "IDEMPOTENCY_TABLE_NAME": "mlops-idempotency",
        "DEPLOYED_STAGES": "feature,dev",
        "SAGEMAKER_EXECUTION_ROLE_ARN": EXECUTION_ROLE,
        "REGISTRY_ACCOUNT_IDS": ACCOUNT,
        "DEFAULT_INSTANCE_TYPE": "ml.m5.large",
        "DEFAULT_INSTANCE_COUNT": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    moto_gaps.apply()
    with mock_aws(), service_models_shared():
        session = boto3.session.Session(region_name=REGION)
        dynamodb = session.client("dynamodb")
        dynamodb.create_table(
            TableName="mlops-idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.create_table(
            TableName="mlops-config",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        session.client("events").create_event_bus(Name=BUS)
        yield session


class DomainEvents:
    """Events put on the application bus (moto_gaps hands every PutEvents entry to a listener)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    def __call__(self, bus: str, event: dict[str, Any], from_aws_service: bool) -> None:
        if bus == BUS:
            self.received.append(event)

    def detail_types(self) -> list[str]:
        return [event["detail-type"] for event in self.received]


@pytest.fixture
def domain_events(aws: boto3.session.Session) -> Iterator[DomainEvents]:
    recorder = DomainEvents()
    aws_events.listen(recorder)
    try:
        yield recorder
    finally:
        aws_events.stop_listening()


@pytest.fixture
def finish_endpoint_changes(aws: boto3.session.Session) -> Callable[[], None]:
    """Move endpoints from Creating/Updating to InService, as SageMaker does minutes later (a
    blue/green rollout step by step, to its end)."""
    lifecycle = EndpointLifecycle(account=ACCOUNT, region=REGION)

    def finish() -> None:
        for _ in range(100):
            if not lifecycle.advance():
                return
        raise AssertionError("endpoints still changing after 100 steps")

    return finish


def load_handler_module(function_dir: str) -> ModuleType:
    """A fresh import of a function's app.py, as a cold start gets."""
    path = REPO / "functions" / function_dir / "app.py"
    spec = importlib.util.spec_from_file_location(f"app_{function_dir}_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def lambda_context() -> Any:
    return LambdaContext(
        function_name="test-function",
        function_version="$LATEST",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:test-function",
        memory_limit_in_mb=512,
        aws_request_id="request-1",
        log_group_name="/aws/lambda/test-function",
        log_stream_name="stream",
        deadline=time.monotonic() + 60,
    )


def approval_event(
    group: str, version: int, *, status: str = "Approved", event_id: str | None = None
) -> dict:
    """A `SageMaker Model Package State Change` in AWS's shape, from the repository's sample."""
    event = json.loads((REPO / "events" / "model-package-approved.json").read_text())
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group}/{version}"
    event["id"] = event_id or f"{group}-{version}-{status}"
    event["resources"] = [arn]
    event["detail"].update(
        ModelPackageGroupName=group,
        ModelPackageVersion=version,
        ModelPackageArn=arn,
        ModelApprovalStatus=status,
    )
    return event


Registrar = Callable[..., str]


@pytest.fixture
def register(aws: boto3.session.Session) -> Registrar:
    """Register a model version (as a pipeline would) and return its ARN."""
    sagemaker = aws.client("sagemaker")

    def register_version(group: str, *, status: str = "Approved") -> str:
        with contextlib.suppress(sagemaker.exceptions.ClientError):
            sagemaker.create_model_package_group(ModelPackageGroupName=group)
        return sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": "123.dkr.ecr.us-east-1.amazonaws.com/xgboost:1",
                        "ModelDataUrl": "s3://b/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            MetadataProperties={"CommitId": "abc123"},
        )["ModelPackageArn"]

    return register_version


class Requests:
    """Every request a function's clients make (recorded by botocore's before-call hook), by operation."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    def named(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]

    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]


def endpoint_tags(sagemaker: Any, name: str) -> dict[str, str]:
    arn = sagemaker.describe_endpoint(EndpointName=name)["EndpointArn"]
    return {tag["Key"]: tag["Value"] for tag in sagemaker.list_tags(ResourceArn=arn)["Tags"]}


def serving_package(sagemaker: Any, endpoint: str) -> str:
    """The model package ARN the endpoint's (first) variant serves."""
    config_name = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    package: str = model["Containers"][0]["ModelPackageName"]
    return package
