"""Bounded before trusted: what no Twilio webhook looks like is refused before Flask parses the form
or the signature is checked, on every route (issue 11, row 2). The same on real gunicorn, with a
100 MB body and a slow one, is in test_load.py."""

from __future__ import annotations

import io

import pytest

from ivr.web.limits import FORM, MAX_BODY, MAX_FIELDS, MAX_QUERY
from ivr.web.security import SignatureCheck
from tests.conftest import signature

# What Twilio posts at a <Gather> answered by voice: every documented voice parameter, a long transcript.
TWILIO_FORM = {
    "AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01", "CallSid": "CA" + "1" * 32,
    "CallStatus": "in-progress", "CallToken": "x" * 300, "Called": "+33900000000", "CalledCity": "",
    "CalledCountry": "FR", "CalledState": "", "CalledZip": "", "Caller": "+33612345678", "CallerCity": "",
    "CallerCountry": "FR", "CallerState": "", "CallerZip": "", "Confidence": "0.91", "Direction": "inbound",
    "From": "+33612345678", "FromCity": "", "FromCountry": "FR", "FromState": "", "FromZip": "",
    "Language": "fr-FR", "SpeechResult": "Oui, je l'ai, mais je ne sais plus où je l'ai rangé. " * 10,
    "StirVerstat": "TN-Validation-Passed-A", "To": "+33900000000", "ToCity": "", "ToCountry": "FR",
    "ToState": "", "ToZip": "", "msg": "Gather End",
}


class Untouchable(io.BytesIO):
    """A request body that records any attempt to read it (the app would turn an error into TwiML)."""

    reads = 0

    def read(self, *args):
        Untouchable.reads += 1
        return b""

    readline = read1 = read


@pytest.fixture
def no_signature_work(monkeypatch):
    """Count the signature checks, and the reads of an Untouchable body: the limits must come first."""
    checks: list[object] = []
    monkeypatch.setattr(SignatureCheck, "accepts", lambda check, request: checks.append(request) or False)
    monkeypatch.setattr(Untouchable, "reads", 0)
    yield checks
    assert Untouchable.reads == 0, "the body was read"


def announced(length: int, kind: str = FORM) -> dict[str, object]:
    """Headers announcing a body of this length, whatever the test client sends."""
    return {"headers": {"Content-Type": kind, "X-Twilio-Signature": "x"},
            "environ_overrides": {"CONTENT_LENGTH": str(length)}}


def test_a_webhook_as_twilio_sends_it_with_a_long_transcript_is_served(post):
    assert post("/voice", TWILIO_FORM).status_code == 200


def test_a_body_announced_over_the_limit_is_refused_with_413_before_a_byte_is_read(client, no_signature_work):
    response = client.post("/voice", input_stream=Untouchable(), **announced(100 * 1024 * 1024))
    assert response.status_code == 413
    assert not no_signature_work


def test_a_body_just_over_the_limit_is_refused_and_one_at_the_limit_is_not(client, no_signature_work):
    headers = {"Content-Type": FORM, "X-Twilio-Signature": "x"}
    assert client.post("/voice", data=b"a=" + b"1" * (MAX_BODY - 1), headers=headers).status_code == 413
    assert not no_signature_work
    assert client.post("/voice", data=b"a=" + b"1" * (MAX_BODY - 2), headers=headers).status_code == 403
    assert len(no_signature_work) == 1


def test_a_form_with_too_many_fields_is_refused_with_413_even_when_signed(client, no_signature_work):
    form = {f"f{n}": "1" for n in range(MAX_FIELDS + 1)}
    headers = {"X-Twilio-Signature": signature("http://localhost/voice", form)}
    assert client.post("/voice", data=form, headers=headers).status_code == 413
    assert not no_signature_work


@pytest.mark.parametrize("kind", ["application/json", "multipart/form-data; boundary=x", "text/plain", ""])
def test_a_body_that_is_not_a_url_encoded_form_is_refused_with_415(client, no_signature_work, kind):
    response = client.post("/voice", input_stream=Untouchable(), **announced(20, kind))
    assert response.status_code == 415
    assert not no_signature_work


def test_a_chunked_body_of_unknown_length_is_refused_with_411(client, no_signature_work):
    headers = {"Content-Type": FORM, "Transfer-Encoding": "chunked", "X-Twilio-Signature": "x"}
    assert client.post("/voice", input_stream=Untouchable(), headers=headers).status_code == 411
    assert not no_signature_work


def test_a_query_string_over_the_limit_is_refused_with_414(client, no_signature_work):
    assert client.post("/voice/transfer?" + "nir=1&" * (MAX_QUERY // 6 + 1)).status_code == 414
    assert not no_signature_work


@pytest.mark.parametrize("path", ["/voice", "/voice/step", "/voice/status", "/voice/fallback", "/metrics",
                                  "/admin", "/"])
def test_the_same_limits_hold_on_every_route_known_or_not(client, no_signature_work, path):
    assert client.post(path, input_stream=Untouchable(), **announced(MAX_BODY + 1)).status_code == 413
    assert client.get(path, input_stream=Untouchable(), **announced(MAX_BODY + 1)).status_code == 413
    json = announced(2, "application/json")
    assert client.post(path, input_stream=Untouchable(), **json).status_code == 415
    assert not no_signature_work
