"""Every event in `events/` reaches exactly the functions `events/README.md` names for it, through the
deployed template's rules, and each of them accepts it (no `invalid`, no error).

The files are what users feed to `sam local invoke -e` and `python -m mlops_local invoke|send`, so a
file that drifts from the shape a handler expects, or a rule that stops matching it, fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlops_local import LocalCloud

EVENTS = Path(__file__).resolve().parents[2] / "events"
CUSTOM_RESOURCE_REQUEST = "project-create.json"
SCHEDULED = "Scheduled Event"


def documented_routes() -> dict[str, set[str]]:
    """`events/README.md`'s table: file → the functions it triggers (the first two columns)."""
    routes = {}
    for line in (EVENTS / "README.md").read_text().splitlines():
        match = re.match(r"\| `([\w-]+\.json)` \| ([^|]+) \|", line)
        if match:
            routes[match[1]] = set(re.findall(r"`(\w+Function)`", match[2]))
    return routes


def test_every_event_file_is_documented_with_the_functions_it_triggers() -> None:
    routes = documented_routes()
    assert set(routes) == {path.name for path in EVENTS.glob("*.json")}
    assert all(routes.values()), "each file names at least one function"


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local_cloud:
        yield local_cloud


# A function URL request (MLflow's webhook) is an HTTP call to one function, not an EventBridge event.
FUNCTION_URL_REQUEST = "mlflow-webhook-alias-created.json"
ROUTED_EVENTS = sorted(
    path.name
    for path in EVENTS.glob("*.json")
    if path.name not in {CUSTOM_RESOURCE_REQUEST, FUNCTION_URL_REQUEST}
)


@pytest.mark.parametrize("name", ROUTED_EVENTS)
def test_the_event_reaches_exactly_its_documented_functions_and_each_accepts_it(
    cloud: LocalCloud, name: str
) -> None:
    event = json.loads((EVENTS / name).read_text())
    if event["detail-type"] == SCHEDULED:  # a schedule's rule has no pattern: it invokes its target
        trace = cloud.send(event, bus=cloud.bus_for(event))
        assert trace.deliveries[0].runs == (), "a scheduled event matches no pattern"
        [function] = documented_routes()[name]
        invocations = [cloud.invoke(function, event)]
    else:
        trace = cloud.send(event, bus=cloud.bus_for(event))
        runs = trace.deliveries[0].runs
        assert {run.function for run in runs} == documented_routes()[name]
        invocations = [run.attempts[-1] for run in runs]
    for invocation in invocations:
        assert invocation.succeeded, f"{name}: {invocation.error}"
        assert invocation.result["status"] != "invalid", f"{name} was refused as invalid"


def test_the_custom_resource_request_is_answered_through_the_local_cloud(cloud: LocalCloud) -> None:
    request = json.loads((EVENTS / CUSTOM_RESOURCE_REQUEST).read_text())
    [function] = documented_routes()[CUSTOM_RESOURCE_REQUEST]
    answer = cloud.request_custom_resource(
        function,
        request["RequestType"],
        {key: value for key, value in request["ResourceProperties"].items() if key != "ServiceToken"},
    )
    assert answer.status == "SUCCESS", answer.reason
    assert answer.data["RepositoryUrl"]
    assert [event["detail-type"] for event in answer.invocation.emitted] == ["Project Created"]
    cloud.settle()


def test_the_function_url_request_is_refused_for_its_placeholder_signature(cloud: LocalCloud) -> None:
    """As the README says: the file shows the request's shape; only a signed delivery gets through."""
    request = json.loads((EVENTS / FUNCTION_URL_REQUEST).read_text())
    [function] = documented_routes()[FUNCTION_URL_REQUEST]
    invocation = cloud.invoke(function, request)
    assert invocation.succeeded
    assert invocation.response["statusCode"] == 401
    assert invocation.emitted == ()
