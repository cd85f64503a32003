"""EndpointTesterFunction: runs an endpoint's integration test suite when it is InService or on request."""

from mlops_core.aws_events import EndpointStateChange
from mlops_core.endpoint_tester import EndpointTester, IntegrationTestsRequestedEvent
from mlops_core.event_function import EventFunction, Route
from mlops_core.settings import TesterSettings

handler = EventFunction(
    component="endpoint-tester",
    settings_model=TesterSettings,
    build_service=EndpointTester.build,
    routes=[
        Route(EndpointStateChange, EndpointTester.on_endpoint_state_change),
        Route(IntegrationTestsRequestedEvent, EndpointTester.on_integration_tests_requested),
    ],
)
