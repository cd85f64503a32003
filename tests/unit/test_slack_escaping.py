"""No Slack markup from events: every renderer, fed hostile strings, sends them as text.

A pipeline display name ``<!channel> <https://evil.example|click here>`` or a branch
``feature-<!channel>`` must not ping the channel or show a disguised link: every string an event
brings is escaped (``&``, ``<``, ``>``) in every mrkdwn text, header and fallback text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from mlops_core.notifications.slack_escape import escape
from mlops_core.notifications.slack_messages import RENDERERS, render

from tests.unit.test_slack_messages import EXAMPLES

HOSTILE = ["<!channel> <https://evil.example|click here>", "feature-<!channel>", "R&D <@U0123ABCD> &lt;"]
# After escaping, an ampersand only starts one of Slack's three escapes.
_BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def hostile(value: Any, text: str, *, replace: bool) -> Any:
    """Every string in ``value`` replaced by ``text`` (or with ``text`` appended), at any depth."""
    if isinstance(value, str):
        return text if replace else value + text
    if isinstance(value, dict):
        return {key: hostile(item, text, replace=replace) for key, item in value.items()}
    if isinstance(value, list):
        return [hostile(item, text, replace=replace) for item in value]
    return value


def texts(payload: Any) -> Iterator[str]:
    """Every text Slack renders: the fallback ``text``, and each text object's ``text``."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from texts(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from texts(item)


def assert_no_markup_from_events(payload: dict[str, Any]) -> None:
    for text in texts(payload):
        assert "<" not in text and ">" not in text, text
        assert not _BARE_AMPERSAND.search(text), text


def test_escape_replaces_slacks_three_control_characters_and_nothing_else():
    assert escape("<!channel> & <https://evil.example|click here>") == (
        "&lt;!channel&gt; &amp; &lt;https://evil.example|click here&gt;"
    )
    assert escape("churn-dev *v3* `x` 'q' \"d\"") == "churn-dev *v3* `x` 'q' \"d\""
    assert escape("&lt;") == "&amp;lt;"  # an escape in the data is shown as typed, not decoded


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("replace", [True, False], ids=["replaced", "appended"])
@pytest.mark.parametrize("detail_type", sorted(set(EXAMPLES) | set(RENDERERS)))
def test_every_renderer_sends_hostile_strings_from_events_as_text(detail_type, replace, text):
    example = EXAMPLES.get(detail_type, {"project": "churn", "stage": "dev", "endpoint_name": "churn-dev"})
    detail = hostile(example, text, replace=replace) | {text: text}  # a hostile key too

    payload = render(detail_type, "mlops.test", detail).payload()

    assert_no_markup_from_events(payload)
    assert escape(text) in "".join(texts(payload))  # shown, as written


@pytest.mark.parametrize("text", HOSTILE)
def test_an_unknown_event_type_and_source_are_escaped_in_the_generic_message(text):
    payload = render(text, text, {"project": text, "nested": {text: [text]}}).payload()

    assert_no_markup_from_events(payload)
    assert payload["text"] == f":information_source: {escape(text)}"
