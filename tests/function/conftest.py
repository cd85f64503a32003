"""Function tests: a handler against moto's in-process AWS, with the template's environment."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mlops_local import moto_gaps

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK = "mlops"
BUS = "mlops-bus"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    """moto with the control plane's tables and bus, and the function environment set."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "mlops-control-plane",
        "POWERTOOLS_METRICS_NAMESPACE": "MLOpsControlPlane",
        "STACK_NAME": STACK,
        "EVENT_BUS_NAME": BUS,
        "CONFIG_TABLE_NAME": "mlops-config",
        "IDEMPOTENCY_TABLE_NAME": "mlops-idempotency",
        "DEPLOYED_STAGES": "feature,dev",
        "SAGEMAKER_EXECUTION_ROLE_ARN": EXECUTION_ROLE,
        "DEFAULT_INSTANCE_TYPE": "ml.m5.large",
        "DEFAULT_INSTANCE_COUNT": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    moto_gaps.install()
    with mock_aws():
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
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield session


class DomainEvents:
    """Domain events put on the bus, read back through a rule that targets an SQS queue."""

    def __init__(self, session: boto3.session.Session) -> None:
        events = session.client("events")
        self._sqs = session.client("sqs")
        events.create_event_bus(Name=BUS)
        self._queue_url = self._sqs.create_queue(QueueName="domain-events")["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": [{"prefix": "mlops."}]}))
        events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": queue_arn}])
        self.received: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        while True:
            messages = self._sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return self.received
            for message in messages:
                self.received.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])

    def detail_types(self) -> list[str]:
        return [event["detail-type"] for event in self.drain()]


@pytest.fixture
def domain_events(aws: boto3.session.Session) -> DomainEvents:
    return DomainEvents(aws)


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
    from mlops_local.lambda_context import LambdaContext  # the local cloud's context object

    return LambdaContext(function_name="test-function", timeout_seconds=60)


def approval_event(group: str, version: int, *, status: str = "Approved", event_id: str | None = None) -> dict:
    """A `SageMaker Model Package State Change` in AWS's shape, from the repository's sample."""
    event = json.loads((REPO / "events" / "model-package-approved.json").read_text())
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group}/{version}"
    event["id"] = event_id or f"{group}-{version}-{status}"
    event["resources"] = [arn]
    event["detail"].update(
        ModelPackageGroupName=group, ModelPackageVersion=version, ModelPackageArn=arn, ModelApprovalStatus=status
    )
    return event


Registrar = Callable[..., str]


@pytest.fixture
def register(aws: boto3.session.Session) -> Registrar:
    """Register a model version (as a pipeline would) and return its ARN."""
    sagemaker = aws.client("sagemaker")

    def register_version(group: str, *, status: str = "Approved") -> str:
        try:
            sagemaker.create_model_package_group(ModelPackageGroupName=group)
        except sagemaker.exceptions.ClientError:
            pass
        return sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [
                    {"Image": "123.dkr.ecr.us-east-1.amazonaws.com/xgboost:1", "ModelDataUrl": "s3://b/model.tar.gz"}
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            MetadataProperties={"CommitId": "abc123"},
        )["ModelPackageArn"]

    return register_version
