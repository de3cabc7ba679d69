"""The app's token stays in the address bar: out of Voila's log and out of every kernel.

The user opens ``http://127.0.0.1:PORT/?token=...``. Before a handler reads the request,
the token moves from the query string into an ``Authorization: token ...`` header (which
Jupyter Server's identity provider reads the same way, and answers with its login cookie),
so what Voila hands a kernel (``VOILA_REQUEST_URL``, ``QUERY_STRING``) and what it logs hold
no token. The access log's lines are redacted as well, for a request no handler served.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

_TOKEN = re.compile(r"(?i)(token=)[^&\s#]+")
HIDDEN = "[hidden]"


def redact(text: str) -> str:
    """``text`` with every ``token=...`` value hidden."""
    return _TOKEN.sub(rf"\g<1>{HIDDEN}", text)


def move_token_to_header(request) -> bool:
    """Move ``?token=`` of a Tornado request into its Authorization header; True if it had one."""
    if "token" not in request.query_arguments:
        return False
    values = request.query_arguments.pop("token")
    token = values[-1].decode("utf-8", "replace") if values else ""
    if token and "Authorization" not in request.headers:
        request.headers["Authorization"] = f"token {token}"
    pairs = [(k, v) for k, v in parse_qsl(request.query, keep_blank_values=True)
             if k != "token"]
    request.query = urlencode(pairs)
    request.uri = request.path + (f"?{request.query}" if request.query else "")
    arguments = {k: list(v) for k, v in request.query_arguments.items()}
    for key, value in request.body_arguments.items():
        arguments.setdefault(key, []).extend(value)
    request.arguments = arguments
    return True


class TokenFromQuery:
    """A handler mixin: the token leaves the query before the handler (or its login) runs."""

    def prepare(self, *args: Any, **kwargs: Any):
        move_token_to_header(self.request)
        return super().prepare(*args, **kwargs)


def tokenless(handler_class: type) -> type:
    return type(f"Tokenless{handler_class.__name__}", (TokenFromQuery, handler_class), {})


def wrap_handlers(handlers: list) -> list:
    """Voila's handler list with each handler class behind :class:`TokenFromQuery`."""
    from tornado.routing import URLSpec

    wrapped = []
    for entry in handlers:
        if isinstance(entry, URLSpec):
            entry.handler_class = tokenless(entry.handler_class)
        elif isinstance(entry, tuple) and len(entry) >= 2 and isinstance(entry[1], type):
            entry = (entry[0], tokenless(entry[1]), *entry[2:])
        wrapped.append(entry)
    return wrapped


def log_request(handler) -> None:
    """Tornado's access log line (status, method, address, time) with the token hidden."""
    from tornado.log import access_log

    status = handler.get_status()
    log = access_log.info if status < 400 else access_log.warning if status < 500 \
        else access_log.error
    request = handler.request
    log("%d %s %s (%s) %.2fms", status, request.method, redact(request.uri),
        request.remote_ip, 1000.0 * request.request_time())


def studio_voila():
    """Voila, its handlers behind :class:`TokenFromQuery` (imports Voila)."""
    from voila.app import Voila

    class StudioVoila(Voila):
        def init_handlers(self) -> list:
            return wrap_handlers(super().init_handlers())

    return StudioVoila
