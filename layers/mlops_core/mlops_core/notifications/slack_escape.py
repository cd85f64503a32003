"""Slack's mrkdwn control characters escaped: text from events and AWS is data, never markup."""


def escape(text: str) -> str:
    """Slack's mrkdwn control characters escaped: text from events and AWS is data, never markup.

    ``&``, ``<`` and ``>`` become ``&amp;``, ``&lt;`` and ``&gt;`` (Slack's formatting reference,
    "Escaping text"): ``<!channel>``, ``<@U123>`` and ``<https://...|label>`` in a name or a reason are
    then shown as written instead of pinging a channel or disguising a link.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
