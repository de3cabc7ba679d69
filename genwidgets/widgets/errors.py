"""The one error style of the views, and the guard that shows an error instead of raising
it into the comm handler that called (a click, a slider)."""

from __future__ import annotations

import html

ERROR_COLOUR = "#c62828"


def error_html(what, *, inline: bool = False) -> str:
    """``what`` (an exception: its type and message; or a text) in red, wrapping; a
    block (``<pre>``) or, ``inline``, a span beside a button or in a table cell."""
    text = f"{type(what).__name__}: {what}" if isinstance(what, BaseException) else str(what)
    tag = "span" if inline else "pre"
    return (f"<{tag} class='gw-error' style='color:{ERROR_COLOUR};white-space:pre-wrap'>"
            f"{html.escape(text)}</{tag}>")


def guarded(error, action, *args):
    """``action(*args)``; an exception is shown in the HTML widget ``error``, not raised
    into the comm handler that called it (a click, a slider)."""
    try:
        error.value = ""
        return action(*args)
    except Exception as exc:
        error.value = error_html(exc)
