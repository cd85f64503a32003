"""Fixtures for the local cloud's own tests."""

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from echo_stack import write_echo_stack
from mlops_local import LocalCloud, moto_gaps
from mlops_local.embedded_aws import service_models_shared
from moto import mock_aws

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    """In-process moto with the local cloud's gaps and service rules installed, and no endpoint URL."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    moto_gaps.apply()  # installs the service rules too
    with mock_aws(), service_models_shared():
        yield boto3.Session(region_name=REGION)


@pytest.fixture
def echo_template(tmp_path: Path) -> Path:
    return write_echo_stack(tmp_path)


@pytest.fixture
def echo_cloud(echo_template: Path) -> Iterator[LocalCloud]:
    with LocalCloud(echo_template) as cloud:
        yield cloud
