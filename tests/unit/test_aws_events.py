"""The AWS event models accept the real shapes (tests/fixtures/aws-events) and AWS's inconsistencies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mlops_core.contract.aws_events import EndpointStatus, ModelApprovalStatus, ScheduledEvent
from mlops_core.contract.codecommit_events import CodeCommitRepositoryStateChange
from mlops_core.contract.custom_resource_request import CustomResourceRequest
from mlops_core.contract.sagemaker_events import (
    EndpointDeploymentStateChange,
    EndpointStateChange,
    ModelPackageStateChange,
    PipelineExecutionStatusChange,
)
from pydantic import ValidationError

# The documented AWS samples (their README says where each comes from).
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "aws-events"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("model-package-state-change", ModelPackageStateChange),
        ("endpoint-state-change", EndpointStateChange),
        ("endpoint-deployment-state-change", EndpointDeploymentStateChange),
        ("pipeline-execution-status-change", PipelineExecutionStatusChange),
        ("codecommit-reference-updated", CodeCommitRepositoryStateChange),
        ("scheduled-event", ScheduledEvent),
        ("cloudformation-custom-resource-create", CustomResourceRequest),
    ],
)
def test_documented_samples_parse(name, model):
    model.model_validate(sample(name))


def test_model_package_event_fields():
    event = ModelPackageStateChange.model_validate(sample("model-package-state-change"))
    assert event.detail.ModelApprovalStatus is ModelApprovalStatus.REJECTED
    assert event.detail.ModelPackageVersion == 2
    assert event.time == datetime(2021, 2, 24, 17, 0, 14, tzinfo=UTC)


@pytest.mark.parametrize("spelling", ["IN_SERVICE", "InService"])
def test_endpoint_status_accepts_both_spellings(spelling):
    event = sample("endpoint-state-change")
    event["detail"]["EndpointStatus"] = spelling
    assert EndpointStateChange.model_validate(event).detail.EndpointStatus is EndpointStatus.IN_SERVICE


def test_status_spellings_cover_every_state():
    for status in EndpointStatus:
        upper_snake = "".join("_" + c if c.isupper() and i else c for i, c in enumerate(status.value)).upper()
        assert EndpointStatus(upper_snake) is status
    with pytest.raises(ValueError):
        EndpointStatus("ALMOST_READY")


def test_times_in_epoch_milliseconds_as_string_number_or_iso():
    event = sample("endpoint-state-change")
    parsed = EndpointStateChange.model_validate(event)
    assert parsed.time == datetime(2020, 3, 10, 9, 18, 9, 50000, tzinfo=UTC)  # "1583831889050"
    assert parsed.detail.CreationTime == datetime.fromtimestamp(1592411992.203, tz=UTC)  # 1592411992203.0
    event["time"] = "2020-03-10T09:18:09Z"
    assert EndpointStateChange.model_validate(event).time == datetime(2020, 3, 10, 9, 18, 9, tzinfo=UTC)


def test_a_model_package_arn_must_name_the_events_group_and_version():
    event = sample("model-package-state-change")
    event["detail"]["ModelPackageVersion"] = 3
    with pytest.raises(ValidationError, match="is not version 3"):
        ModelPackageStateChange.model_validate(event)


def test_an_event_of_another_type_is_refused():
    event = sample("endpoint-state-change")
    with pytest.raises(ValidationError):
        ModelPackageStateChange.model_validate(event)


def test_busy_states_reject_updates():
    assert {status for status in EndpointStatus if status.is_busy} == {
        EndpointStatus.CREATING,
        EndpointStatus.UPDATING,
        EndpointStatus.SYSTEM_UPDATING,
        EndpointStatus.ROLLING_BACK,
        EndpointStatus.DELETING,
    }


def test_a_deployment_events_pending_summary_names_the_update_and_its_start():
    event = EndpointDeploymentStateChange.model_validate(sample("endpoint-deployment-state-change"))
    summary = event.detail.PendingDeploymentSummary
    assert summary is not None
    assert summary.EndpointConfigName == "sample-endpoint-config-2"
    assert summary.StartTime == datetime.fromtimestamp(1635195269.181, tz=UTC)
    assert summary.ProductionVariants[0]["VariantStatus"][0]["Status"] == "Baking"
