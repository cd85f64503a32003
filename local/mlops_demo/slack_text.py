"""Slack Block Kit messages as plain text lines, so the demo can show in a terminal what the team read.

Handles the blocks the notifier sends (``header``, ``section`` with ``text`` and/or ``fields``,
``context``, ``divider``, ``actions``: its buttons as ``[Approve]  [Reject]``) and Slack's mrkdwn:
``*bold*`` (ANSI bold when asked for, else plain), ```` `code` ```` (backticks dropped), code fences
(kept as indented lines), ``<url|label>`` links and the ``&amp;``/``&lt;``/``&gt;`` escapes. Emoji
shortcodes (``:rocket:``) are left as they are: they read well enough and need no font. A block of
another type is named, never dropped silently.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

BOLD, RESET = "\033[1m", "\033[0m"
CODE_INDENT = "  "
FIELD_SEPARATOR = "   "
DIVIDER = "-" * 24

_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"<([^|<>]+)\|([^<>]+)>|<([^|<>]+)>")


def slack_lines(payload: Mapping[str, Any], *, ansi: bool = False, width: int = 96) -> list[str]:
    """The message as lines of text (no indentation; the caller indents), ANSI bold only if ``ansi``."""
    blocks = payload.get("blocks") or []
    if not blocks:
        return _mrkdwn_lines(str(payload.get("text", "")), ansi=ansi, width=width)
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _unescape(str(_text_of(block.get("text"))))
            lines.append(f"{BOLD}{title}{RESET}" if ansi else title)
        elif kind == "section":
            if block.get("text"):
                lines.extend(_mrkdwn_lines(_text_of(block["text"]), ansi=ansi, width=width))
            if block.get("fields"):
                lines.extend(_field_lines(block["fields"], ansi=ansi, width=width))
        elif kind == "context":
            texts = [_inline(_text_of(element), ansi=False) for element in block.get("elements") or []]
            lines.append("(" + " ".join(text for text in texts if text) + ")")
        elif kind == "divider":
            lines.append(DIVIDER)
        elif kind == "actions":
            buttons = [_unescape(_text_of(element.get("text"))) for element in block.get("elements") or []]
            lines.append("  ".join(f"[{button}]" for button in buttons))
        else:
            lines.append(f"[a {kind} block]")
    return lines


def _text_of(text_object: Any) -> str:
    if isinstance(text_object, Mapping):
        return str(text_object.get("text", ""))
    return str(text_object or "")


def _field_lines(fields: Sequence[Any], *, ansi: bool, width: int) -> list[str]:
    """Fields (``*Label*\\nvalue``) as ``Label: value`` pairs, as many on a line as fit."""
    pairs = []
    for field in fields:
        label, _, value = _text_of(field).partition("\n")
        label = _inline(label, ansi=False).rstrip(":")
        value = _inline(value.replace("\n", " "), ansi=ansi)
        pairs.append(f"{label}: {value}" if value else label)
    lines: list[str] = []
    current = ""
    for pair in pairs:
        candidate = f"{current}{FIELD_SEPARATOR}{pair}" if current else pair
        if current and _visible_length(candidate) > width:
            lines.append(current)
            candidate = pair
        current = candidate
    if current:
        lines.append(current)
    return lines


def _mrkdwn_lines(text: str, *, ansi: bool, width: int) -> list[str]:
    """A mrkdwn text: prose wrapped at ``width``, code fences kept verbatim (indented)."""
    lines: list[str] = []
    for index, part in enumerate(text.split("```")):
        if index % 2:  # inside a fence: a table or a log, keep it as it is
            lines.extend(CODE_INDENT + _unescape(line) for line in part.strip("\n").splitlines())
            continue
        for line in part.splitlines():
            if not line.strip():
                continue
            rendered = _inline(line, ansi=ansi)
            if ansi or _visible_length(rendered) <= width:
                lines.append(rendered)  # ANSI codes would be cut by wrapping: leave long lines be
            else:
                indent = "  " if rendered.startswith("• ") else ""
                lines.extend(textwrap.wrap(rendered, width, subsequent_indent=indent))
    return lines


def _inline(text: str, *, ansi: bool) -> str:
    text = _LINK.sub(_link, text)
    text = _CODE.sub(r"\1", text)
    text = _BOLD.sub(lambda match: f"{BOLD}{match[1]}{RESET}" if ansi else match[1], text)
    return _unescape(text).strip()


def _link(match: re.Match[str]) -> str:
    if match[3] is not None:
        return match[3]
    url, label = match[1], match[2]
    return label if label == url else f"{label} ({url})"


def _unescape(text: str) -> str:
    return html.unescape(text)


def _visible_length(text: str) -> int:
    return len(text.replace(BOLD, "").replace(RESET, ""))
