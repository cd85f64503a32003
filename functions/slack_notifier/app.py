"""SlackNotifierFunction: every domain event, and failed pipeline runs, as a Slack message."""

from mlops_core.event_function import EventFunction, Route
from mlops_core.settings import NotifierSettings
from mlops_core.slack_notifier import NotifiedEvent, SlackNotifier, notified_detail_types

handler = EventFunction(
    component="slack-notifier",
    settings_model=NotifierSettings,
    build_service=SlackNotifier.build,
    routes=[
        Route(NotifiedEvent, SlackNotifier.notify, for_detail_type=detail_type)
        for detail_type in notified_detail_types()
    ],
)
