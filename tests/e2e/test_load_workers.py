"""A load phase beyond one invocation, end to end: the tester invokes itself (Lambda Invoke, authorized
by its own policy) for each worker, each worker runs in a process of its own against the local inference
server, and their histograms are merged into the one result the run reports."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from mlops_core.suite_tool import write_suite
from mlops_local import LocalCloud
from mlops_local.demo_model import DEMO_SUITE, GOOD_MODEL, register_demo_version

pytestmark = pytest.mark.e2e

TESTER = "EndpointTesterFunction"


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"LoadWorkersCap": "3"}) as local_cloud:
        yield local_cloud


def run_suite(cloud: LocalCloud, endpoint: str, load: dict) -> dict:
    write_suite(
        cloud.session.client("dynamodb"),
        cloud.outputs["ConfigTableName"],
        endpoint,
        {"load": {"request": DEMO_SUITE["load"]["request"], **load}},
        source="s",
    )
    arn = register_demo_version(cloud.session, endpoint, GOOD_MODEL)
    cloud.settle()
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved"
    )
    [completed] = cloud.settle().events(detail_type="Integration Tests Completed")
    return completed["detail"]


def test_a_phase_on_three_workers_runs_as_three_invocations_and_reports_one_merged_result(cloud):
    # 16 senders per worker: at 20/s each, a sender is free again unless the local inference server (a
    # thread of this test's process, sharing its cores with three tester processes) answers slower than
    # 800 ms; what this test is about is the fan-out, not the endpoint's capacity
    phase = {"requests": 90, "rate_per_second": 60, "workers": 3, "concurrency": 16, "p99_budget_ms": 5000}
    result = run_suite(cloud, "w-dev", phase)

    load = result["load"]
    # the endpoint is healthy: the phase passes; on a loaded machine a worker's process may start or
    # send late, which makes the run incomplete (the tester's lateness), never failed
    assert load["passed"] and load["failures"] == [], load["failures"]
    assert result["outcome"] == ("passed" if load["schedule_held"] else "incomplete"), result["summary"]
    assert load["workers"] == 3 and load["requests"] == 90 and load["errors"] == 0
    assert load["target_rate_per_second"] == 60 and load["waited_for_concurrency"] == 0
    assert 0 < load["p50_from_send_ms"] <= load["p99_from_send_ms"] <= load["p99_ms"]
    # two invocations of the tester itself besides the one that ran the suite, each 30 requests
    workers = [i for i in cloud.invoked_in_own_process if i.function == TESTER]
    assert len(workers) == 2 and all(worker.succeeded for worker in workers)
    assert sorted(w.result["worker"] for w in workers) == [1, 2]
    assert all(w.event["detail-type"] == "Load Share Requested" for w in workers)


def test_more_workers_than_the_stack_allows_fail_the_phase_and_send_nothing(cloud):
    before = len(cloud.invoked_in_own_process)

    result = run_suite(cloud, "v-dev", {"requests": 10, "workers": 4})

    assert result["outcome"] == "failed" and result["load"]["requests"] == 0
    assert result["load"]["failures"][0] == (
        "the load phase asks for 4 workers; this stack allows at most 3 (its LoadWorkersCap parameter)"
    )
    assert len(cloud.invoked_in_own_process) == before


def test_the_tester_may_invoke_only_itself(cloud):
    tester = cloud.session_as(TESTER).client("lambda", config=Config(retries={"total_max_attempts": 1}))

    with pytest.raises(ClientError) as denied:
        tester.invoke(FunctionName=cloud.functions["ModelDeployerFunction"].name, Payload=b"{}")

    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert re.search(
        r"not authorized to perform: lambda:InvokeFunction on resource: .*ModelDeployerFunction",
        str(denied.value),
    )
