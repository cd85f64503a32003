from __future__ import annotations

from pathlib import Path

import mlops_core
import pytest
from mlops_core.catalog import CATALOG, render_catalog
from mlops_core.contract.topology import Stage
from mlops_core.deployment.settings import DeployerSettings
from pydantic import ValidationError

ENVIRONMENT = {
    "STACK_NAME": "mlops",
    "EVENT_BUS_NAME": "mlops-bus",
    "CONFIG_TABLE_NAME": "config",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
    "DEPLOYED_STAGES": "feature,dev",
    "SAGEMAKER_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/sagemaker",
    "REGISTRY_ACCOUNT_IDS": "123456789012",
    "AWS_REGION": "us-east-1",
    "DEFAULT_INSTANCE_TYPE": "ml.m5.large",
    "DEFAULT_INSTANCE_COUNT": "2",
    "UNRELATED": "ignored",
}


def test_the_committed_event_catalog_is_what_the_models_say():
    committed = (Path(mlops_core.__file__).parent / "EVENTS.md").read_text()
    assert committed == render_catalog(), "regenerate: python -m mlops_core.catalog > .../EVENTS.md"


@pytest.mark.parametrize("event", CATALOG, ids=lambda e: e.DETAIL_TYPE)
def test_every_domain_event_has_a_valid_example_and_a_component_source(event):
    assert event.model_validate(event.EXAMPLE).detail() == event.EXAMPLE
    assert event.source().startswith("mlops.")


def test_settings_come_from_the_environment():
    settings = DeployerSettings.from_environ(ENVIRONMENT)
    assert settings.deployed_stages == {Stage.FEATURE, Stage.DEV}
    assert settings.default_instance_count == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEPLOYED_STAGES", "dev,qa"),
        ("SAGEMAKER_EXECUTION_ROLE_ARN", "sagemaker"),
        ("DEFAULT_INSTANCE_COUNT", "0"),
    ],
)
def test_bad_settings_fail_naming_the_variable(name, value):
    with pytest.raises(ValidationError, match=name):
        DeployerSettings.from_environ({**ENVIRONMENT, name: value})


def test_missing_settings_fail_naming_the_variable():
    environment = dict(ENVIRONMENT)
    del environment["EVENT_BUS_NAME"]
    with pytest.raises(ValidationError, match="EVENT_BUS_NAME"):
        DeployerSettings.from_environ(environment)
