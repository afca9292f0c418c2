"""Refuse webhooks that Twilio did not sign."""

from __future__ import annotations

import hmac

from flask import Request
from twilio.request_validator import RequestValidator


def public_url(request: Request, base: str) -> str:
    """The URL Twilio called: behind a TLS proxy, the configured public base plus path and query."""
    query = request.query_string.decode("latin-1")
    root = base or request.host_url.rstrip("/")
    return f"{root}{request.path}" + (f"?{query}" if query else "")


class SignatureCheck:
    """Checks X-Twilio-Signature against the auth token, over the public URL and the form."""

    def __init__(self, auth_token: str, public_base_url: str) -> None:
        self.validator = RequestValidator(auth_token)
        self.base = public_base_url

    def accepts(self, request: Request) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            return False
        url, form = public_url(request, self.base), request.form
        # One HMAC over the exact URL settles nearly every request; only a mismatch pays for the
        # validator's retries with and without the default port (Twilio signs either way).
        if hmac.compare_digest(self.validator.compute_signature(url, form).encode(), signature.encode()):
            return True
        return self.validator.validate(url, form, signature)
