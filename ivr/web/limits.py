"""Bounded before trusted: size, field count, content type and time of every request are limited
before Flask parses anything or a signature is checked, on every route of the app."""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Iterable
from typing import Any

from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    LengthRequired,
    RequestEntityTooLarge,
    RequestTimeout,
    RequestURITooLarge,
    UnsupportedMediaType,
)

# Twilio's webhooks are forms of about 30 fields and 2 kB; a speech transcript adds a few hundred bytes.
MAX_BODY = 16 * 1024
MAX_FIELDS = 100
# The longest URL we hand Twilio is under 200 characters; a helpline's transfer query stays short too.
MAX_QUERY = 2048
# Twilio sends its whole form at once: a body still arriving after this is a slow client.
BODY_SECONDS = 5.0
FORM = "application/x-www-form-urlencoded"


@functools.cache
def _timeout() -> type | None:
    """gevent's Timeout under gunicorn's gevent worker (the server's model, see gunicorn.conf.py),
    where it can interrupt a read; None elsewhere (a test client has the whole body at once)."""
    try:
        from gevent import Timeout, monkey
    except ImportError:
        return None
    return Timeout if monkey.is_module_patched("socket") else None


class Limits:
    """WSGI middleware refusing, before any parsing, what no Twilio webhook looks like."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            self._check(environ)
        except HTTPException as refusal:
            return refusal(environ, start_response)
        return self.app(environ, start_response)

    def _check(self, environ: dict[str, Any]) -> None:
        if len(environ.get("QUERY_STRING", "")) > MAX_QUERY:
            raise RequestURITooLarge()
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            # Without a length the size cannot be known before reading.
            raise LengthRequired()
        declared = environ.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit():
            raise BadRequest()
        length = int(declared)
        if length > MAX_BODY:
            raise RequestEntityTooLarge()
        if length == 0:
            return
        kind = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if kind != FORM:
            raise UnsupportedMediaType()
        body = self._read(environ["wsgi.input"], length)
        if body.count(b"&") + 1 > MAX_FIELDS:
            raise RequestEntityTooLarge()
        environ["wsgi.input"] = io.BytesIO(body)

    def _read(self, stream: Any, length: int) -> bytes:
        """The whole body, at most `length` bytes, within the time Twilio would take many times over."""
        timeout = _timeout()
        deadline = timeout(BODY_SECONDS, TimeoutError) if timeout else contextlib.nullcontext()
        try:
            with deadline:
                body = stream.read(length)
                while 0 < len(body) < length:
                    more = stream.read(length - len(body))
                    if not more:
                        break
                    body += more
        except TimeoutError as exc:
            raise RequestTimeout() from exc
        if len(body) != length:
            # The client closed before sending what it announced.
            raise BadRequest()
        return body
