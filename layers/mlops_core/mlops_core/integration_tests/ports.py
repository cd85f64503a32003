"""What the endpoint tester needs from outside, in its own terms: the endpoint it tests, the endpoint's
answers, the model version it records the outcome on, and the config table's suites, runs and claims.
:mod:`mlops_core.adapters.sagemaker`, :mod:`mlops_core.adapters.sagemaker_runtime` and
:mod:`mlops_core.adapters.suite_store` implement these ports; the unit tests implement them with fakes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mlops_core.integration_tests.suites import InvocationRequest, TestSuite

if TYPE_CHECKING:  # the deployer's view of an endpoint and its config, which the tester reads too
    from mlops_core.contract.sagemaker_resources import Endpoint, EndpointConfig

# An invocation may take this long to connect on top of its timeout (the runner counts it in).
CONNECT_TIMEOUT_SECONDS = 2.0
CLAIM_RUNNING = "running"  # a run holds the deployment until its lease expires
CLAIM_TESTED = "tested"  # the deployment was tested: duplicate events run nothing


@dataclass(frozen=True)
class InvocationResponse:
    status_code: int
    latency_ms: float
    body: bytes = b""
    content_type: str | None = None
    error_code: str | None = None
    error_message: str | None = None


class EndpointInvoker(Protocol):
    def invoke(
        self, endpoint_name: str, request: InvocationRequest, *, timeout_seconds: float
    ) -> InvocationResponse:
        """One request, one attempt; an error, a timeout or no connection is a response that says so
        (``error_code``), never an exception."""
        ...


# What a worker of a load phase is invoked with: an event of this detail-type and source (never on a bus).
LOAD_SHARE_DETAIL_TYPE = "Load Share Requested"
LOAD_SHARE_SOURCE = "mlops.endpoint-tester"


class LoadWorkerError(Exception):
    """A worker of a load phase did not report its tally (its invocation failed or answered nothing)."""


class LoadWorkersPort(Protocol):
    """Other invocations of the tester, each sending its share of a load phase."""

    def run_share(self, share: Mapping[str, Any]) -> dict[str, Any]:
        """Run ``share`` (a :class:`~mlops_core.integration_tests.load_workers.LoadShare` as plain
        values) in a new invocation of the tester, wait for it, and return its tally as plain values;
        :class:`LoadWorkerError` when the invocation fails."""
        ...


class EndpointsPort(Protocol):
    def describe_endpoint(self, name: str) -> Endpoint | None:
        """The endpoint, its tags and the model version it serves; None if there is none."""
        ...

    def describe_endpoint_config(self, name: str) -> EndpointConfig | None:
        """The endpoint config (is the endpoint asynchronous?); None if there is none."""
        ...


class TestedVersionsPort(Protocol):
    """The model versions the tester records its outcomes on."""

    def merge_model_package_metadata(self, model_package_arn: str, values: Mapping[str, str]) -> None:
        """Add ``values`` to the version's ``CustomerMetadataProperties``, keeping the other keys."""
        ...

    def reject_model_package(self, model_package_arn: str, reason: str) -> None: ...


class SuiteStorePort(Protocol):
    """Suites, runs and the claims on deployments being (or already) tested."""

    def get_suite(self, endpoint_name: str) -> TestSuite | None: ...

    def claim_deployment(
        self, endpoint_name: str, endpoint_config_name: str, *, now: int, lease_until: int
    ) -> bool:
        """Claim the test of this deployment (a lease until ``lease_until``); False if another holds it."""
        ...

    def deployment_claim(self, endpoint_name: str, endpoint_config_name: str) -> dict[str, Any] | None:
        """The claim as plain values: ``state`` (:data:`CLAIM_RUNNING`, :data:`CLAIM_TESTED`), ..."""
        ...

    def finish_deployment(
        self, endpoint_name: str, endpoint_config_name: str, *, run_id: str, expires_at: int
    ) -> None: ...
    def release_deployment(self, endpoint_name: str, endpoint_config_name: str) -> None: ...
    def put_run(
        self, endpoint_name: str, run_id: str, *, outcome: str, result: Mapping[str, Any], expires_at: int
    ) -> None: ...
    def project_record(self, project: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class AcceptedInvocation:
    """What InvokeEndpointAsync answers: where the answer, or the failure, will be written."""

    output_location: str
    failure_location: str


@dataclass(frozen=True)
class StoredAnswer:
    body: bytes
    content_type: str | None = None


class AsyncInvocationRefusedError(Exception):
    """InvokeEndpointAsync (or the upload of its input) was refused: nothing was queued."""

    def __init__(self, status_code: int, error_code: str | None, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_code = error_code


class AsyncInferencePort(Protocol):
    """An asynchronous endpoint's queue: inputs uploaded to S3, InvokeEndpointAsync, answers read back."""

    def put_input(self, location: str, body: bytes, content_type: str) -> None: ...

    def invoke_async(
        self, endpoint_name: str, input_location: str, request: InvocationRequest
    ) -> AcceptedInvocation: ...

    def read_answer(self, location: str) -> StoredAnswer | None:
        """The object at ``location``; None while it is not there."""
        ...


class BatchTestDataPort(Protocol):
    """Where a batch stage's test runs keep their input and output (the stack's bucket)."""

    def uri(self, key: str) -> str:
        """The ``s3://`` URI of ``key``."""
        ...

    def put(self, key: str, body: bytes) -> None: ...
    def get(self, key: str) -> bytes | None:
        """The object's body; None if there is none."""
        ...


class TransformJobsPort(Protocol):
    def create_transform_job(self, request: Mapping[str, Any]) -> None:
        """Start a transform job (``CreateTransformJob``'s request); one of that name existing is fine."""
        ...
