"""EndpointReaperFunction: nightly (and on request), deletes the feature and dev endpoints nobody keeps."""

from mlops_core.adapters.application_autoscaling import AutoscalingAdapter
from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.adapters.reaper_reports import S3ReaperReports
from mlops_core.adapters.sagemaker import SageMakerAdapter
from mlops_core.contract.aws_events import ScheduledEvent
from mlops_core.handlers.event_function import EventFunction, Route, remaining_time_ms
from mlops_core.reaper.endpoint_reaper import EndpointReaper, EndpointsReapRequestedEvent
from mlops_core.reaper.settings import ReaperSettings


def remaining_seconds() -> float | None:
    remaining = remaining_time_ms()
    return remaining / 1000 if remaining is not None else None


def build(settings: ReaperSettings, clients: ClientFactory) -> EndpointReaper:
    return EndpointReaper(
        settings,
        SageMakerAdapter(clients("sagemaker")),
        AutoscalingAdapter(clients("application-autoscaling")),
        reports=S3ReaperReports(clients("s3"), settings.report_bucket) if settings.report_bucket else None,
        remaining_seconds=remaining_seconds,
    )


handler = EventFunction(
    component="endpoint-reaper",
    settings_model=ReaperSettings,
    build_service=build,
    routes=[
        Route(ScheduledEvent, EndpointReaper.on_schedule),
        Route(EndpointsReapRequestedEvent, EndpointReaper.on_request),
    ],
)
