"""EndpointReaperFunction: nightly (and on request), deletes the feature and dev endpoints nobody keeps."""

from mlops_core.aws_events import ScheduledEvent
from mlops_core.endpoint_reaper import EndpointReaper, EndpointsReapRequestedEvent
from mlops_core.event_function import EventFunction, Route
from mlops_core.settings import ReaperSettings

handler = EventFunction(
    component="endpoint-reaper",
    settings_model=ReaperSettings,
    build_service=EndpointReaper.build,
    routes=[
        Route(ScheduledEvent, EndpointReaper.on_schedule),
        Route(EndpointsReapRequestedEvent, EndpointReaper.on_request),
    ],
)
