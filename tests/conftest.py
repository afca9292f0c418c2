"""Fixtures: the app, its test client, and a phone that calls it as Twilio would."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from ivr.app import create_app
from ivr.config import ROOT
from ivr.engine.reply import line
from ivr.phone import Phone, flask_transport
from tests.caller import Caller

AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
SECRET = "a-state-token-secret-for-the-tests-only"
FLOWS = sorted((ROOT / "flows").glob("*.yaml"))
# The seed explainer's flow, and the current one (the default).
SEED = ROOT / "flows" / "franceconnect-seed.yaml"
CURRENT = ROOT / "flows" / "franceconnect-2026.yaml"
# Apps a test builds with only the settings it is about run for local use, as `make call` does;
# the `config` fixture below is a server configured for the internet.
os.environ["IVR_LOCAL"] = "1"


@pytest.fixture
def config() -> dict[str, str]:
    """Settings of a server open to the internet; tests add HELPLINE_NUMBER and friends before `app`."""
    return {"IVR_LOCAL": "0", "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": "http://localhost",
            "IVR_SECRET": SECRET}


@pytest.fixture
def app(config):
    return create_app(config)


@pytest.fixture
def client(app):
    return app.test_client()


def signature(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """The X-Twilio-Signature Twilio would send for this URL and form."""
    return RequestValidator(token).compute_signature(url, form)


@pytest.fixture
def post(client):
    """POST a form to a path, signed as Twilio signs it."""

    def send(path: str, data: dict[str, str] | None = None, **kwargs):
        form = data or {}
        headers = {"X-Twilio-Signature": signature("http://localhost" + path, form)}
        return client.post(path, data=form, headers=headers, **kwargs)

    return send


@pytest.fixture
def phone(app) -> Callable[..., Phone]:
    """A factory of phones that call the app; each phone is one call."""

    def make(**options) -> Phone:
        return Phone(flask_transport(app.test_client()), auth_token=AUTH_TOKEN, **options)

    return make


@pytest.fixture
def call(phone) -> Callable[..., Phone]:
    """Place a call, skip the greeting, answer each entry (key, words or '.' for silence)."""

    def play(*entries: str, skip_greeting: bool = True, **options) -> Phone:
        line = phone(**options)
        line.dial()
        if skip_greeting:
            line.press("1")
        for entry in entries:
            if entry == ".":
                line.wait()
            elif all(ch in "0123456789*#" for ch in entry) and entry:
                line.press(entry)
            else:
                line.say(entry)
        return line

    return play


@pytest.fixture
def say(app):
    """The text of a prompt, as the caller hears it."""
    catalog = app.extensions["ivr"].renderer.catalog
    return lambda key, **params: catalog.render(line(key, **params))


@pytest.fixture
def caller(call, app):
    """A caller past the greeting, who answers from a profile."""

    def make(*entries: str, **options) -> Caller:
        service = app.extensions["ivr"]
        return Caller(call(*entries, **options), service.call.flow, service.renderer.catalog)

    return make


def spoken(phone: Phone) -> str:
    """What the caller heard in the last turn, as one string."""
    return " ".join(phone.heard)


def flow_ids(path: Path) -> str:
    return path.name
