"""Put domain events on the application bus."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mlops_core.contract.events.base import DomainEvent

PUT_EVENTS_BATCH_SIZE = 10  # PutEvents takes at most 10 entries per call
# "the total entry size must be less than 1MB" (PutEvents, API reference), counted as EventBridge does:
# the UTF-8 bytes of Source, DetailType and Detail (and 14 for a Time, and each resource; none here).
PUT_EVENTS_MAX_BYTES = 1024 * 1024


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
        """Put the events in batches of at most 10 entries and under 1 MB; raise :class:`PublishError`
        if any entry failed."""
        failures: list[dict[str, Any]] = []
        for batch in _batches([(event, self._entry(event)) for event in events]):
            response = self._client.put_events(Entries=[entry for _, entry in batch])
            if response.get("FailedEntryCount", 0):
                for (event, _), result in zip(batch, response["Entries"], strict=False):
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


def entry_size(entry: dict[str, Any]) -> int:
    """A PutEvents entry's size as EventBridge counts it."""
    return sum(len(str(entry.get(field) or "").encode()) for field in ("Source", "DetailType", "Detail"))


def _batches(
    entries: list[tuple[DomainEvent, dict[str, Any]]],
) -> list[list[tuple[DomainEvent, dict[str, Any]]]]:
    """Consecutive batches within PutEvents' limits (an entry too big on its own goes alone, and
    EventBridge says why it refuses it)."""
    batches: list[list[tuple[DomainEvent, dict[str, Any]]]] = []
    batch: list[tuple[DomainEvent, dict[str, Any]]] = []
    size = 0
    for event, entry in entries:
        entry_bytes = entry_size(entry)
        if batch and (len(batch) == PUT_EVENTS_BATCH_SIZE or size + entry_bytes >= PUT_EVENTS_MAX_BYTES):
            batches.append(batch)
            batch, size = [], 0
        batch.append((event, entry))
        size += entry_bytes
    if batch:
        batches.append(batch)
    return batches
