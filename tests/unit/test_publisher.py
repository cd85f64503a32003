from __future__ import annotations

import json
from typing import Any

import pytest
from mlops_core.adapters.event_bus import PUT_EVENTS_MAX_BYTES, EventPublisher, PublishError, entry_size
from mlops_core.contract.events.deployment import DeploymentFailed


class RecordingEvents:
    def __init__(self, fail_indexes: frozenset[int] = frozenset()) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self._fail = fail_indexes
        self._seen = 0

    def put_events(self, *, Entries):
        if sum(entry_size(entry) for entry in Entries) >= PUT_EVENTS_MAX_BYTES:  # as EventBridge does
            raise ValueError(
                "ValidationException: Total size of the entries in the request is over the limit."
            )
        self.calls.append(Entries)
        results = []
        for _ in Entries:
            if self._seen in self._fail:
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
            else:
                results.append({"EventId": f"id-{self._seen}"})
            self._seen += 1
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


def failed(n: int) -> DeploymentFailed:
    return DeploymentFailed(project="churn", stage="dev", endpoint_name="churn-dev", reason=f"reason {n}")


def test_events_go_in_batches_of_ten_to_the_bus():
    client = RecordingEvents()
    EventPublisher(client, "mlops-bus").publish([failed(n) for n in range(23)])

    assert [len(batch) for batch in client.calls] == [10, 10, 3]
    entry = client.calls[0][0]
    assert entry["EventBusName"] == "mlops-bus"
    assert entry["Source"] == "mlops.model-deployer"
    assert entry["DetailType"] == "Deployment Failed"
    assert json.loads(entry["Detail"]) == {
        "project": "churn",
        "stage": "dev",
        "endpoint_name": "churn-dev",
        "reason": "reason 0",
    }


def test_batches_stay_under_the_total_size_eventbridge_accepts():
    client = RecordingEvents()
    big = [
        DeploymentFailed(project="churn", stage="dev", endpoint_name="churn-dev", reason="x" * 400_000)
        for _ in range(5)
    ]

    EventPublisher(client, "mlops-bus").publish([*big, failed(5)])

    assert [len(batch) for batch in client.calls] == [2, 2, 2]


def test_nothing_to_publish_makes_no_call():
    client = RecordingEvents()
    EventPublisher(client, "mlops-bus").publish([])
    assert client.calls == []


def test_refused_entries_raise_with_their_errors_after_every_batch_was_sent():
    client = RecordingEvents(fail_indexes=frozenset({3, 12}))

    with pytest.raises(PublishError, match="refused 2 event") as raised:
        EventPublisher(client, "mlops-bus").publish([failed(n) for n in range(15)])

    assert len(client.calls) == 2
    assert [f["ErrorCode"] for f in raised.value.failures] == ["InternalFailure", "InternalFailure"]
