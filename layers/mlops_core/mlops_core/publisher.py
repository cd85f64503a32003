"""Put domain events on the application's bus."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mlops_core.domain_events import DomainEvent

PUT_EVENTS_BATCH_SIZE = 10  # PutEvents takes at most 10 entries per call


class EventsClient(Protocol):
    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]: ...


class PublishError(RuntimeError):
    """Some entries were refused by EventBridge; raised so the invocation is retried."""

    def __init__(self, failures: list[dict[str, Any]]) -> None:
        self.failures = failures
        reasons = "; ".join(
            f"{failure['detail_type']}: {failure.get('ErrorCode')} {failure.get('ErrorMessage')}"
            for failure in failures
        )
        super().__init__(f"EventBridge refused {len(failures)} event(s): {reasons}")


class EventPublisher:
    def __init__(self, client: EventsClient, bus_name: str) -> None:
        self._client = client
        self._bus_name = bus_name

    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Put the events in batches of 10; raise :class:`PublishError` if any entry failed."""
        failures: list[dict[str, Any]] = []
        for start in range(0, len(events), PUT_EVENTS_BATCH_SIZE):
            batch = events[start : start + PUT_EVENTS_BATCH_SIZE]
            response = self._client.put_events(Entries=[self._entry(event) for event in batch])
            if response.get("FailedEntryCount", 0):
                for event, result in zip(batch, response["Entries"], strict=False):
                    if "ErrorCode" in result:
                        failures.append({"detail_type": event.DETAIL_TYPE, **result})
        if failures:
            raise PublishError(failures)

    def _entry(self, event: DomainEvent) -> dict[str, Any]:
        return {
            "EventBusName": self._bus_name,
            "Source": event.source(),
            "DetailType": event.DETAIL_TYPE,
            "Detail": json.dumps(event.detail()),
        }
