"""The only Slack markup the messages build from data: mentions of Slack members (who clicked, a
stage's approvers). Everything else in a message is text, escaped
(:func:`mlops_core.notifications.slack_escape.escape`).

A mention is ``<@U0123ABCD>`` for a Slack member id of the form Slack gives them; anything else is
refused, so a value that is not an id can neither ping a channel nor disguise a link.
"""

from __future__ import annotations

import re

from mlops_core.contract.slack_approvals import SLACK_MEMBER_ID_PATTERN

_MEMBER_ID = re.compile(SLACK_MEMBER_ID_PATTERN)


def is_member_id(value: str) -> bool:
    return bool(_MEMBER_ID.match(value))


def mention(member_id: str) -> str:
    """``<@U0123ABCD>``: pings a member; only ids of the form Slack gives are mentioned."""
    if not _MEMBER_ID.match(member_id):
        raise ValueError(f"not a Slack member id: {member_id!r}")
    return f"<@{member_id}>"
