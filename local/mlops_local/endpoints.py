"""The lifecycle of SageMaker endpoints, which moto skips: it makes every endpoint InService at once.

In SageMaker, CreateEndpoint leaves an endpoint `Creating` and UpdateEndpoint `Updating` for minutes,
and every status change is an event. Here the cloud decides when an endpoint moves on: `advance()`
finishes every transition that nobody holds, and tests can hold an endpoint in a status to make
approvals race a deployment, or fail it.
"""

from dataclasses import dataclass
from weakref import WeakKeyDictionary

from moto.core.utils import utcnow
from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend, sagemaker_backends

from mlops_local import aws_events

IN_PROGRESS = ("Creating", "Updating")


@dataclass(frozen=True)
class PendingUpdate:
    """What UpdateEndpoint asked for; it takes effect when the endpoint is InService again."""

    endpoint_config_name: str
    retain_all_variant_properties: bool


# Kept beside the moto objects rather than on them: every attribute of a moto SageMaker object becomes a
# field of its Describe response.
_pending_updates: WeakKeyDictionary[FakeEndpoint, PendingUpdate] = WeakKeyDictionary()


def _backend_of(endpoint: FakeEndpoint) -> SageMakerModelBackend:
    _arn, _partition, _service, region, account, _resource = endpoint.arn.split(":", 5)
    return sagemaker_backends[account][region]


def set_status(endpoint: FakeEndpoint, status: str, *, failure_reason: str | None = None) -> None:
    """Move `endpoint` to `status` and emit the `SageMaker Endpoint State Change` that AWS emits."""
    backend = _backend_of(endpoint)
    endpoint.endpoint_status = status
    endpoint.failure_reason = failure_reason
    endpoint.last_modified_time = utcnow()
    aws_events.emit(
        aws_events.endpoint_state_change(endpoint, account=backend.account_id, region=backend.region_name)
    )


def begin_update(endpoint: FakeEndpoint, update: PendingUpdate) -> None:
    _pending_updates[endpoint] = update
    set_status(endpoint, "Updating")


def finish(endpoint: FakeEndpoint) -> None:
    """End a Creating or Updating transition: apply the pending update, if any, and go InService."""
    update = _pending_updates.pop(endpoint, None)
    if update is not None:
        config = _backend_of(endpoint).endpoint_configs[update.endpoint_config_name]
        endpoint.endpoint_config_name = update.endpoint_config_name
        if not update.retain_all_variant_properties:
            endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
    set_status(endpoint, "InService")


def fail(endpoint: FakeEndpoint, reason: str) -> None:
    """End the endpoint's transition as `Failed`; a pending update is dropped, as SageMaker drops it."""
    _pending_updates.pop(endpoint, None)
    set_status(endpoint, "Failed", failure_reason=reason)


class EndpointLifecycle:
    """Moves the endpoints of one account and region along, except the ones a test holds."""

    def __init__(self, *, account: str, region: str) -> None:
        self._account = account
        self._region = region
        self._held: dict[str, str] = {}

    @property
    def _endpoints(self) -> dict[str, FakeEndpoint]:
        return sagemaker_backends[self._account][self._region].endpoints

    def _endpoint(self, name: str) -> FakeEndpoint:
        try:
            return self._endpoints[name]
        except KeyError:
            raise KeyError(f"no endpoint named {name!r} in the embedded SageMaker") from None

    def hold(self, name: str, status: str = "Updating") -> None:
        """Keep endpoint `name` in `status` until released; an endpoint not created yet is held once it is.

        An endpoint that exists in another status moves to `status` now (with its event), so a test can
        make an InService endpoint look busy and watch what a deployment does then.
        """
        self._held[name] = status
        endpoint = self._endpoints.get(name)
        if endpoint is not None and endpoint.endpoint_status != status:
            set_status(endpoint, status)

    def release(self, name: str) -> None:
        """Let endpoint `name` move on at the next `advance()`."""
        self._held.pop(name, None)

    def fail(self, name: str, reason: str) -> None:
        self.release(name)
        fail(self._endpoint(name), reason)

    def advance(self) -> bool:
        """Finish every transition nobody holds; True if any endpoint moved (and emitted an event)."""
        moving = [
            endpoint
            for name, endpoint in self._endpoints.items()
            if endpoint.endpoint_status in IN_PROGRESS and name not in self._held
        ]
        for endpoint in moving:
            finish(endpoint)
        return bool(moving)
