"""What a domain operation did, in the shape the handlers turn into a result, a log line and events.

The domain services return these and know nothing of Lambda: :class:`Outcome` for an operation on an
event (the handler publishes its events and returns :meth:`Outcome.result`), :class:`ResourceOutcome`
for a CloudFormation custom resource's operation (the handler answers CloudFormation with it), and
:class:`InvalidRequestError` for a request that is wrong in itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the models are not needed at run time here (the notifier never imports them)
    from mlops_core.contract.events.base import DomainEvent


@dataclass(frozen=True)
class Outcome:
    """What an operation did: a small JSON-serialisable result, and the domain events to publish."""

    status: str
    details: Mapping[str, Any] = field(default_factory=dict)
    events: Sequence[DomainEvent] = ()

    def result(self) -> dict[str, Any]:
        return {
            "status": self.status,
            **self.details,
            "events": [event.DETAIL_TYPE for event in self.events],
        }


class InvalidRequestError(ValueError):
    """The request itself is wrong (properties, names): nothing was created; the message says why."""


@dataclass(frozen=True)
class ResourceOutcome:
    """What an operation did: the physical id (stable across updates), ``Fn::GetAtt`` data, events,
    and notes: what a person should know about a SUCCESS (what was left alone, and why)."""

    physical_id: str
    data: Mapping[str, str] = field(default_factory=dict)
    events: Sequence[DomainEvent] = ()
    notes: Sequence[str] = ()
