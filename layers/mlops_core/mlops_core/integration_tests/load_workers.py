"""A load phase beyond one invocation: the share of the phase that a worker (another invocation of the
tester) sends, and the request that starts it.

The invocation running the suite (the coordinator) starts ``workers - 1`` workers together through
:class:`~mlops_core.integration_tests.ports.LoadWorkersPort` (a synchronous Lambda Invoke of the tester
itself), sends share 0 itself, and merges the tallies the workers return. Every share starts at the
same wall-clock time (``starts_at``, a little after the workers were asked, so that each has started),
and stops sending in time to return before the coordinator's own time runs out (``deadline``). A worker
never fans out again: its share is sent by that invocation alone.
"""

# No ``from __future__ import annotations``: pydantic models (see suites.py).
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mlops_core.integration_tests.suites import MAX_LOAD_WORKERS, LoadPhase

# The workers are asked this long before the phase starts: a worker's cold start (about a second)
# fits, so that the shares start together.
WORKER_START_LEAD_SECONDS = 2.0
# A worker stops starting requests this long before the coordinator's time runs out (the coordinator
# keeps its own margin on top), so that its tally is back in time.
WORKER_RETURN_MS = 3_000


class LoadShare(BaseModel):
    """Worker ``worker`` of ``workers``'s share of ``phase`` (requests ``worker``, ``worker +
    workers``, ... of the one schedule)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    endpoint_name: str = Field(min_length=1, max_length=63)
    phase: LoadPhase
    worker: int = Field(ge=1, lt=MAX_LOAD_WORKERS)
    workers: int = Field(ge=2, le=MAX_LOAD_WORKERS)
    starts_at: float = Field(description="when every share starts sending (epoch seconds)")
    deadline: float = Field(description="when the coordinator's time for the phase runs out (epoch seconds)")


class LoadShareRequestedEvent(BaseModel):
    """What the coordinator invokes a worker with: an event in EventBridge's envelope shape (``id``,
    ``source``, ``detail-type``, ``detail``) so that the tester's handler routes it like its other
    events and runs it once per ``id``; it never travels on a bus."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    id: str = Field(min_length=1)
    source: Literal["mlops.endpoint-tester"]
    detail_type: Literal["Load Share Requested"] = Field(alias="detail-type")
    detail: LoadShare
