"""The scenarios with 20% of SageMaker, S3 and DynamoDB calls failing (docs/architecture.md, "What every handler guarantees":
errors, and operations idempotent in themselves).

Each scenario prepares its state without faults, then runs its part under faults: the events in flight
are delivered (and cascade) while one call in five to SageMaker, S3 and DynamoDB fails. Two kinds:
- `transient`: throttling and 503s before the service acts (botocore retries them; a function that
  still fails is retried by Lambda);
- `lost-answer`: the same, plus "internal-error-after-success": a 500 after the service acted, the hard
  case for anything that claims idempotency (a conditional write that succeeded but whose answer was
  lost is retried, and refused).
Each run must end exactly as the same scenario ends without faults (run once per module, under another
project name; the comparison is normalised for the name): endpoints, configs, models, model versions
and their statuses and metadata, config-table items, Slack headlines in order, domain events by type.
Nothing lost (no event in the on-failure queue, nothing missing), nothing doubled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemAlreadyExistsError
from mlops_core.adapters.config_table import ConfigTable
from mlops_core.adapters.suite_store import SuiteStore
from mlops_core.handlers.event_function import ClaimingClient
from mlops_local import LocalCloud
from mlops_local.testing import codecommit_merge, git_branch_updated

from tests.reliability.conftest import (
    alias_changed,
    alias_state,
    project_state,
    put_project,
    put_suite,
    record_tests,
    register,
    set_status,
    slack_headlines,
    upload_mlflow_version,
)
from tests.reliability.test_redelivery import CASES_ONLY_SUITE

pytestmark = pytest.mark.e2e

SERVICES = ("sagemaker", "s3", "dynamodb")
KINDS = {
    "transient": ("throttling", "unavailable"),
    "lost-answer": ("throttling", "unavailable", "internal-error-after-success"),
}
SEEDS = (1, 2, 3)
RATE = 0.2
STACK_ARN = "arn:aws:cloudformation:us-east-1:123456789012:stack/SC-{project}/1"

Act = Callable[[], None]


# ------------------------------------------------------------------------- scenarios: prepare, then act


def approval_to_tested_endpoint(cloud: LocalCloud, project: str) -> Act:
    """A dev version approved: deployed, InService, tested (cases against the demo model), Slack told."""
    put_suite(cloud, f"{project}-dev", CASES_ONLY_SUITE)
    arn = register(cloud, f"{project}-dev")
    cloud.settle()
    set_status(cloud, arn, "Approved")  # the event waits in the bus for the faulty settle
    return cloud.settle


def rejection_rolls_back(cloud: LocalCloud, project: str) -> Act:
    for commit in ("a1", "b2"):
        arn = register(cloud, f"{project}-dev", commit=commit)
        set_status(cloud, arn, "Approved")
        cloud.settle()
    set_status(cloud, arn, "Rejected")
    return cloud.settle


def promotion(scenario: str) -> Callable[[LocalCloud, str], Act]:
    def prepare(cloud: LocalCloud, project: str) -> Act:
        put_project(cloud, project, scenario=scenario)
        source = register(cloud, f"{project}-dev", commit="c1", status="Approved")
        cloud.settle()
        record_tests(cloud, source)
        if scenario == "baseline":
            event = codecommit_merge(project, "c1")
        else:
            event = git_branch_updated(f"acme/{project}", "f00d", "c1", project)
        return lambda: _send(cloud, event)

    return prepare


def reaper(cloud: LocalCloud, project: str) -> Act:
    """A fleet: dev (reaped), feature kept until tomorrow (protected), prod (never reaped)."""
    _send(cloud, {"source": "mlops.operator", "detail-type": "Endpoints Reap Requested", "detail": {}})
    for stage in ("dev", "feature", "prod"):
        set_status(cloud, register(cloud, f"{project}-{stage}"), "Approved")
        cloud.settle()
    sagemaker = cloud.session.client("sagemaker")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    sagemaker.add_tags(
        ResourceArn=sagemaker.describe_endpoint(EndpointName=f"{project}-feature")["EndpointArn"],
        Tags=[{"Key": "mlops:keep-until", "Value": tomorrow}],
    )
    event = {
        "source": "mlops.operator",
        "detail-type": "Endpoints Reap Requested",
        "detail": {"dry_run": False},
    }
    return lambda: _send(cloud, event)


def project_create_and_delete(cloud: LocalCloud, project: str) -> Act:
    properties = {
        "SageMakerProjectName": project,
        "SageMakerProjectId": f"p-{project}",
        "Scenario": "advanced",
        "GitProvider": "local",
        "ModelGroupRetention": "delete-if-empty",
    }
    stack = STACK_ARN.format(project=project)

    def act() -> None:
        created = cloud.request_custom_resource(
            "ProjectLifecycleFunction", "Create", properties, stack_id=stack
        )
        assert created.status == "SUCCESS", created.reason
        cloud.settle()
        deleted = cloud.request_custom_resource(
            "ProjectLifecycleFunction", "Delete", properties, physical_id=created.physical_id, stack_id=stack
        )
        assert deleted.status == "SUCCESS", deleted.reason
        cloud.settle()

    return act


def mlflow_alias_deploys(cloud: LocalCloud, project: str) -> Act:
    put_project(cloud, project, registry_backend="mlflow", mlflow_serving_image="1.dkr.ecr/x:1")
    source = upload_mlflow_version(cloud, project, 1)
    alias_state(cloud).record(project, "dev", old=None, new=1)
    event = alias_changed(project, "dev", new=1, old=None, source_uri=source, event_id=f"alias-{project}")
    return lambda: _send(cloud, event)


def _send(cloud: LocalCloud, event: dict[str, Any]) -> None:
    cloud.send(event, bus=cloud.bus_for(event))


SCENARIOS: dict[str, Callable[[LocalCloud, str], Act]] = {
    "approval-to-tested-endpoint": approval_to_tested_endpoint,
    "rejection-rolls-back": rejection_rolls_back,
    "promotion-baseline": promotion("baseline"),
    "promotion-advanced": promotion("advanced"),
    "reaper": reaper,
    "project-create-and-delete": project_create_and_delete,
    "mlflow-alias-deploys": mlflow_alias_deploys,
}


# ------------------------------------------------------------------------------------------- the runs


@dataclass(frozen=True)
class Ending:
    state: dict[str, Any]
    slack: list[str]
    events: dict[str, int]  # domain events delivered, by detail-type
    lost: list[str]  # runs that failed on every attempt (their events went to the on-failure queue)
    repository: list[str]


def run(
    cloud: LocalCloud, name: str, project: str, faults: dict[str, Any] | None = None
) -> tuple[Ending, Any]:
    act = SCENARIOS[name](cloud, project)
    slack_mark, since = len(cloud.slack_messages), len(cloud.history.deliveries)
    plan = None
    if faults is None:
        act()
    else:
        with cloud.failing_aws_requests(**faults) as plan:
            act()
    deliveries = cloud.history.deliveries[since:]
    events = Counter(
        d.event["detail-type"] for d in deliveries if str(d.event.get("source", "")).startswith("mlops.")
    )
    lost = [
        f"{run.function}: {run.attempts[-1].error}" for d in deliveries for run in d.runs if not run.succeeded
    ]
    repository = cloud.git_root / f"{project}.git"
    refs = (
        sorted(path.name for path in (repository / "refs" / "heads").glob("*")) if repository.exists() else []
    )
    ending = Ending(
        state=project_state(cloud, project),
        slack=slack_headlines(cloud.slack_messages[slack_mark:], project),
        events=dict(events),
        lost=lost,
        repository=refs,
    )
    return ending, plan


@pytest.fixture(scope="module")
def without_faults(cloud: LocalCloud) -> dict[str, Ending]:
    """How each scenario ends without faults (run on first use, once per module)."""
    return {}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_scenario_under_faults_ends_as_it_does_without(
    cloud: LocalCloud, without_faults: dict[str, Ending], new_project, scenario: str, kind: str
):
    if scenario not in without_faults:
        expected, _ = run(cloud, scenario, new_project("fb"))
        assert expected.lost == []
        without_faults[scenario] = expected
    expected = without_faults[scenario]
    injected = []

    for seed in SEEDS:
        faults = {"rate": RATE, "services": SERVICES, "kinds": KINDS[kind], "seed": seed}
        ending, plan = run(cloud, scenario, new_project("ff"), faults)

        injected.extend(plan.injected)
        assert ending.lost == [], f"seed {seed}"
        assert ending.events == expected.events, f"seed {seed}"
        assert ending.slack == expected.slack, f"seed {seed}"
        assert ending.repository == expected.repository, f"seed {seed}"
        assert ending.state == expected.state, f"seed {seed}"

    # the faults were real: calls that change something failed, and with lost answers some of those
    # failed after the service had acted
    assert [request for request, _fault in injected if request.mutating]
    if kind == "lost-answer":
        assert [request for request, fault in injected if request.mutating and fault.when == "after"]


# ----------------------------------------------------------- a conditional write whose answer was lost


class LostFirstAnswer:
    """A DynamoDB client whose conditional PutItem succeeds and then loses its answer once: the write
    is made, and botocore's retry (the same request again) is what the caller gets back."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.lost = 0

    def put_item(self, **request: Any) -> Any:
        if "ConditionExpression" in request and not self.lost:
            self._client.put_item(**request)  # done, but the 500 after it hides that
            self.lost += 1
        return self._client.put_item(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_an_event_claim_whose_answer_was_lost_is_its_own_and_a_redelivery_is_still_refused(cloud: LocalCloud):
    table = cloud.functions["ModelDeployerFunction"].environment["IDEMPOTENCY_TABLE_NAME"]
    client = LostFirstAnswer(cloud.session.client("dynamodb"))
    store = DynamoDBPersistenceLayer(table_name=table, boto3_client=ClaimingClient(client))
    store.configure(IdempotencyConfig(event_key_jmespath="id"), function_name="lost-answer")
    event = {"id": "lost-answer-event"}

    store.save_inprogress(event, remaining_time_in_millis=60_000)  # no "already in progress"

    assert client.lost == 1
    with pytest.raises(IdempotencyItemAlreadyExistsError):
        store.save_inprogress(event, remaining_time_in_millis=60_000)  # another delivery of it


def test_a_deployment_claim_whose_answer_was_lost_is_its_own_and_another_run_is_still_refused(
    cloud: LocalCloud,
):
    dynamodb = LostFirstAnswer(cloud.session.client("dynamodb"))
    store = SuiteStore(dynamodb, cloud.outputs["ConfigTableName"])

    assert store.claim_deployment("lost-dev", "lost-dev-v1-abc", now=100, lease_until=10_000) is True
    assert dynamodb.lost == 1
    assert store.claim_deployment("lost-dev", "lost-dev-v1-abc", now=101, lease_until=10_001) is False


def test_a_pending_deployment_whose_answer_was_lost_is_reported_stored_and_an_older_one_is_not(
    cloud: LocalCloud,
):
    dynamodb = LostFirstAnswer(cloud.session.client("dynamodb"))
    table = ConfigTable(dynamodb, cloud.outputs["ConfigTableName"])
    deployment = {"model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/lost-dev/2"}

    assert table.put_pending_deployment("lost-dev", deployment, version=2) is True
    assert dynamodb.lost == 1
    assert table.put_pending_deployment("lost-dev", deployment, version=2) is False
    assert table.put_pending_deployment("lost-dev", deployment, version=1) is False
    assert table.get_pending_deployment("lost-dev") == {
        "pk": "ENDPOINT#lost-dev",
        "sk": "PENDING",
        **deployment,
        "model_package_version": 2,
    }
