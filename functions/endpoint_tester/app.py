"""EndpointTesterFunction: runs an endpoint's integration test suite when it is InService or on request."""

from datetime import UTC, datetime

from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.adapters.batch_test_data import S3BatchTestData, SageMakerTransformJobs
from mlops_core.adapters.lambda_load_workers import LambdaLoadWorkers
from mlops_core.adapters.sagemaker import ModelRegistryAdapter, SageMakerAdapter
from mlops_core.adapters.sagemaker_async_inference import AsyncInferenceQueue
from mlops_core.adapters.sagemaker_runtime_http import SignedHttpInvoker
from mlops_core.adapters.suite_store import SuiteStore
from mlops_core.contract.events.deployment import InServiceCheckEvent
from mlops_core.contract.sagemaker_events import EndpointStateChange
from mlops_core.contract.transform_job_events import TransformJobStateChange
from mlops_core.handlers.event_function import EventFunction, Route, remaining_time_ms
from mlops_core.integration_tests.batch_runs import BatchStageTests, DeploymentStartedEvent
from mlops_core.integration_tests.load_workers import LoadShareRequestedEvent
from mlops_core.integration_tests.settings import TesterSettings
from mlops_core.integration_tests.tester import EndpointTester, IntegrationTestsRequestedEvent

OUTSIDE_AN_INVOCATION_MS = 60_000


def build(settings: TesterSettings, clients: ClientFactory) -> EndpointTester:
    store = SuiteStore(clients("dynamodb"), settings.config_table_name)

    def batch_stage_tests(tester: EndpointTester) -> BatchStageTests:
        return BatchStageTests(
            stack_name=settings.stack_name,
            store=store,
            data=S3BatchTestData(clients("s3"), settings.batch_test_data_bucket),
            jobs=SageMakerTransformJobs(clients("sagemaker")),
            record=tester.record,
            expires_at=tester.expires_at,
            now=lambda: datetime.now(UTC),
        )

    return EndpointTester(
        settings,
        sagemaker=SageMakerAdapter(clients("sagemaker")),
        registry=ModelRegistryAdapter(clients("sagemaker")),
        store=store,
        invoker=SignedHttpInvoker.build(clients),
        remaining_ms=lambda: remaining_time_ms() or OUTSIDE_AN_INVOCATION_MS,
        workers=LambdaLoadWorkers.build(clients, settings.function_name),
        async_inference=AsyncInferenceQueue(clients) if settings.async_inference_bucket else None,
        batch=batch_stage_tests if settings.batch_test_data_bucket else None,
    )


handler = EventFunction(
    component="endpoint-tester",
    settings_model=TesterSettings,
    build_service=build,
    routes=[
        Route(EndpointStateChange, EndpointTester.on_endpoint_state_change),
        Route(InServiceCheckEvent, EndpointTester.on_in_service_check),
        Route(IntegrationTestsRequestedEvent, EndpointTester.on_integration_tests_requested),
        Route(LoadShareRequestedEvent, EndpointTester.on_load_share_requested),
        Route(DeploymentStartedEvent, EndpointTester.on_deployment_started),
        Route(TransformJobStateChange, EndpointTester.on_transform_job_state_change),
    ],
)
