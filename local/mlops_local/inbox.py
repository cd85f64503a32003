"""Events put on a bus and not delivered yet, in the order they were put.

The embedded AWS puts events here from its server threads (PutEvents, SageMaker state changes) while
the cloud takes them out to deliver them, so the queue is locked. While a function runs, the events it
puts with PutEvents are also recorded as its own.
"""

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mlops_local import aws_events


@dataclass(frozen=True)
class PendingEvent:
    bus: str
    event: dict[str, Any]
    emitted_by: str | None  # the function that put it with PutEvents; None for AWS and for callers
    arrived_at: int = -1  # aws_events.now() when it was put: rules created later do not match it


class Inbox:
    def __init__(self) -> None:
        self._pending: deque[PendingEvent] = deque()
        self._lock = threading.Lock()
        self._running_function: str | None = None
        self._emitted: list[dict[str, Any]] = []

    def put(self, bus: str, event: dict[str, Any], from_aws_service: bool) -> None:
        with self._lock:
            emitted_by = None if from_aws_service else self._running_function
            self._pending.append(PendingEvent(bus, event, emitted_by, aws_events.now()))
            if emitted_by is not None:
                self._emitted.append(event)

    def take(self) -> PendingEvent | None:
        with self._lock:
            return self._pending.popleft() if self._pending else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    @contextmanager
    def emitting_as(self, function: str) -> Iterator[list[dict[str, Any]]]:
        """While the block runs, events put with PutEvents are `function`'s; the list collects them."""
        with self._lock:
            self._running_function, self._emitted = function, []
        try:
            yield self._emitted
        finally:
            with self._lock:
                self._running_function = None
