"""The tester's lean invoker (signed HTTP over one connection pool) answers as boto3's client does: the
same predictions, the same error codes and statuses (a model's error with the status the model
answered), the same IAM refusal, against the local cloud's inference server, which authorizes each
request from its SigV4 signature as the function's role."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from botocore.config import Config
from mlops_core.adapters.sagemaker_runtime import SageMakerRuntimeInvoker
from mlops_core.adapters.sagemaker_runtime_http import SignedHttpInvoker
from mlops_core.integration_tests.ports import InvocationResponse
from mlops_core.integration_tests.suites import InvocationRequest
from mlops_local import LocalCloud
from mlops_local.demo_model import GOOD_MODEL, register_demo_version

pytestmark = pytest.mark.e2e

ENDPOINT = "lean-dev"
TESTER = "EndpointTesterFunction"
SLOW_ENDPOINT = "lean-slow-dev"


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local_cloud:
        arn = register_demo_version(local_cloud.session, ENDPOINT, GOOD_MODEL)
        local_cloud.settle()
        local_cloud.session.client("sagemaker").update_model_package(
            ModelPackageArn=arn, ModelApprovalStatus="Approved"
        )
        local_cloud.settle()
        yield local_cloud


def invokers(
    cloud: LocalCloud, url: str, *, as_tester: bool = True
) -> tuple[SignedHttpInvoker, SageMakerRuntimeInvoker]:
    session = cloud.session_as(TESTER) if as_tester else cloud.session
    config = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=1)
    client = session.client("sagemaker-runtime", endpoint_url=url, config=config)
    lean = SignedHttpInvoker(
        endpoint_url=url,
        region=cloud.region,
        credentials=session.get_credentials(),
        service_model=client.meta.service_model,
    )
    return lean, SageMakerRuntimeInvoker(lambda timeout_seconds: client)


def same(response: InvocationResponse) -> tuple[object, ...]:
    """Everything but the latency."""
    return (
        response.status_code,
        response.error_code,
        response.error_message,
        response.body,
        (response.content_type or "").split(";")[0],
    )


@pytest.mark.parametrize(
    ("endpoint", "request_", "as_tester", "status", "error_code"),
    [
        (ENDPOINT, {"json": {"instances": [[2, 95.0, 4]]}}, True, 200, None),
        (ENDPOINT, {"csv": "60,20,0\n2,95,4\n", "custom_attributes": "trace=1"}, True, 200, None),
        (ENDPOINT, {"csv": "not,a,number\n"}, True, 400, "ModelError"),  # the model's own status
        # no endpoint, so no tag for the tester's condition: IAM refuses before it is looked up
        ("nothing-dev", {"json": {"instances": [[1, 1.0, 1]]}}, True, 403, "AccessDeniedException"),
        ("nothing-dev", {"json": {"instances": [[1, 1.0, 1]]}}, False, 400, "ValidationError"),
    ],
)
def test_the_lean_invoker_answers_as_boto3_does(cloud, endpoint, request_, as_tester, status, error_code):
    lean, boto = invokers(cloud, cloud.sagemaker_runtime_url, as_tester=as_tester)
    request = InvocationRequest.model_validate(request_)

    answer = lean.invoke(endpoint, request, timeout_seconds=5)

    assert (answer.status_code, answer.error_code) == (status, error_code)
    assert same(answer) == same(boto.invoke(endpoint, request, timeout_seconds=5))


def test_its_signed_requests_go_through_the_same_iam_authorization(cloud):
    sagemaker = cloud.session.client("sagemaker")
    config_name = sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]
    sagemaker.create_endpoint(  # the same model, on an endpoint another stack manages
        EndpointName="other-dev",
        EndpointConfigName=config_name,
        Tags=[{"Key": "mlops:managed-by", "Value": "another-stack"}],
    )
    cloud.settle()
    lean, boto = invokers(cloud, cloud.sagemaker_runtime_url)
    request = InvocationRequest.model_validate({"json": {"instances": [[2, 95.0, 4]]}})

    refused = lean.invoke("other-dev", request, timeout_seconds=5)

    assert (refused.status_code, refused.error_code) == (403, "AccessDeniedException")
    assert "is not authorized to perform: sagemaker:InvokeEndpoint" in (refused.error_message or "")
    assert same(refused) == same(boto.invoke("other-dev", request, timeout_seconds=5))


def test_no_connection_is_a_failed_response_named_as_botocore_names_it(cloud):
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    lean, boto = invokers(cloud, url)
    request = InvocationRequest.model_validate({"json": 1})

    answer = lean.invoke(ENDPOINT, request, timeout_seconds=1)

    assert (answer.status_code, answer.error_code) == (0, "EndpointConnectionError")
    assert boto.invoke(ENDPOINT, request, timeout_seconds=1).error_code == answer.error_code


def test_an_answer_later_than_the_timeout_is_a_read_timeout_and_its_connection_is_not_reused(cloud):
    arn = register_demo_version(cloud.session, SLOW_ENDPOINT, {**GOOD_MODEL, "latency_ms": 300})
    cloud.settle()
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved"
    )
    cloud.settle()
    lean, _ = invokers(cloud, cloud.sagemaker_runtime_url)
    request = InvocationRequest.model_validate({"json": {"instances": [[2, 95.0, 4]]}})
    expected = lean.invoke(ENDPOINT, request, timeout_seconds=5)  # a kept-alive connection, now idle

    late = lean.invoke(SLOW_ENDPOINT, request, timeout_seconds=0.05)
    answers = [lean.invoke(ENDPOINT, request, timeout_seconds=5) for _ in range(2)]

    assert (late.status_code, late.error_code) == (0, "ReadTimeoutError")
    assert (late.error_message or "").startswith("no answer within 0.05 s")
    # the slow answer arrives on the connection given up on: a connection used again would read it
    assert [same(answer) for answer in answers] == [same(expected)] * 2
