"""Real webhook requests, recorded while simulated callers walk through whole calls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ivr.app import create_app
from ivr.phone import Answer, Phone, Transport, flask_transport

# (what the caller does at each step) — keys, words, "." for silence; together they cover the
# greeting, answers at every depth, a gate failure, speech, a silence redirect, back, repeat, help.
SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("1", "1", "1", "1", "1", "1", "1", "1", "1", "1"),
    ("1", "1", "2", "2", "2", "1", "1", "1", "#"),
    ("1", "2"),
    ("1", ".", "1", "oui", "non", "2", "1", "1", "1", "1", "2"),
    ("1", "1", "1", "1", "*", "1", "2", "3", "2", "1", "1", "1", "1", "0"),
    ("1", "1", "2", "2", "2", "2", "2", "2", "2", "9", "1"),
)


@dataclass(frozen=True)
class Posted:
    """One webhook as Twilio sends it: absolute URL, form, headers (with the signature)."""

    url: str
    form: Mapping[str, str]
    headers: Mapping[str, str]


def recording(transport: Transport, into: list[Posted]) -> Transport:
    """A transport that keeps a copy of every request before sending it on."""

    def post(url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> Answer:
        into.append(Posted(url, dict(form), dict(headers)))
        return transport(url, form, headers)

    return post


def record_calls(base_url: str, auth_token: str, settings: Mapping[str, str] | None = None) -> list[Posted]:
    """Walk every script against the app in-process; the requests are valid for any server of
    the same content, token and public base URL, since the state travels in the URL."""
    app = create_app({"TWILIO_AUTH_TOKEN": auth_token, "PUBLIC_BASE_URL": base_url, **(settings or {})})
    posted: list[Posted] = []
    for number, script in enumerate(SCRIPTS):
        phone = Phone(recording(flask_transport(app.test_client()), posted), base_url=base_url,
                      auth_token=auth_token, call_sid=f"CA{number:032d}")
        phone.dial()
        for entry in script:
            if not phone.waiting:
                break
            if entry == ".":
                phone.wait()
            elif entry.isdigit() or entry in ("*", "#"):
                phone.press(entry)
            else:
                phone.say(entry)
    return posted
