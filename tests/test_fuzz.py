"""Arbitrary input at arbitrary points of a call: never a 5xx, always TwiML with a way forward,
and the caller who then answers properly still hears the right result."""

from __future__ import annotations

import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from conftest import AUTH_TOKEN
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from ivr.app import create_app
from ivr.engine.reply import line
from ivr.phone import Answer, Phone, flask_transport
from tests.caller import ScriptedCaller, profiles

WAYS_FORWARD = {"Gather", "Redirect", "Dial", "Hangup"}
BASE = "http://localhost"
STANDARD = {
    "CallSid": "CA0123456789abcdef0123456789abcdef",
    "AccountSid": "AC00000000000000000000000000000000",
    "From": "+33612345678",
    "To": "+33900000000",
    "CallStatus": "in-progress",
}

keys = st.sampled_from(["1", "2", "3", "0", "*", "#", "", " ", "11", "9", "a", "1#", "٣", "\x00"])
confidences = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "nan", "inf", "-1", "1e309", "0,9", "0.92", " 0.9 ", "1", "0"]),
    st.text(max_size=20),
)
speech = st.one_of(
    st.sampled_from(["oui", "non", "je ne sais pas", "retour", "conseiller", "OUI !"]), st.text()
)
tokens = st.one_of(st.text(max_size=80), st.text(alphabet="0123456789abcdefqgr~yn.-_", max_size=40))


def field(values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    """A form field absent, present once, or duplicated."""
    return st.lists(values, max_size=2)


@st.composite
def fuzzed(draw):
    """Where to post (the pending step, its silence, the dial callback, a new call) and what."""
    target = draw(st.sampled_from(["step", "silence", "dial", "incoming"]))
    token = draw(st.sampled_from(["keep", "truncate", "replace", "drop", "twice"]))
    pairs = [(name, value) for name, value in STANDARD.items() if draw(st.booleans()) or name == "To"]
    pairs += [("Digits", v) for v in draw(field(st.one_of(keys, st.text(max_size=300))))]
    pairs += [("SpeechResult", v) for v in draw(field(speech))]
    pairs += [("Confidence", v) for v in draw(field(confidences))]
    if target == "dial":
        statuses = st.sampled_from(["completed", "busy", "no-answer", ""]) | st.text()
        pairs += [("DialCallStatus", v) for v in draw(field(statuses))]
    return target, token, draw(st.integers(0, 79)), draw(tokens), pairs


@pytest.fixture(scope="module")
def app():
    return create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN})


@pytest.fixture(scope="module")
def crowd(app):
    return profiles(app.extensions["ivr"].call.flow, 40, seed=5)


def target_url(action: str, target: str, token: str, cut: int, other: str) -> str:
    parts = urllib.parse.urlsplit(action)
    original = urllib.parse.parse_qs(parts.query).get("s", [""])[0]
    paths = {"step": "/voice/step", "silence": "/voice/step", "dial": "/voice/dial", "incoming": "/voice"}
    path = paths[target]
    query: list[tuple[str, str]] = []
    if target != "incoming":
        chosen = {"keep": [original], "truncate": [original[:cut]], "replace": [other], "drop": [],
                  "twice": [original, other]}[token]
        query += [("s", value) for value in chosen]
    if target == "silence":
        query.append(("silence", "1"))
    return f"{BASE}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")


def send(client, url: str, pairs: list[tuple[str, str]]) -> Answer:
    """One signed POST, duplicated fields included, as Twilio would sign it."""
    form = MultiDict(pairs)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    parts = urllib.parse.urlsplit(url)
    response = client.post(
        parts.path + (f"?{parts.query}" if parts.query else ""),
        data=form, headers={"X-Twilio-Signature": signature}, base_url=BASE,
    )
    return Answer(response.status_code, response.mimetype, response.get_data(as_text=True))


@settings(max_examples=200, deadline=None)
@given(depth=st.integers(0, 8), who=st.integers(0, 39), fuzz=fuzzed())
def test_any_input_at_any_step_gets_twiml_with_a_way_forward_and_the_call_still_ends_right(
    app, crowd, depth, who, fuzz
):
    service = app.extensions["ivr"]
    client = app.test_client()
    phone = Phone(flask_transport(client), auth_token=AUTH_TOKEN)
    caller = ScriptedCaller(phone, service.call.flow, service.renderer.catalog, crowd[who])
    caller.run(turns=1 + depth)
    if caller.done:
        return
    before = caller.question()
    target, token, cut, other, pairs = fuzz
    url = target_url(phone.action, target, token, cut, other)

    answer = send(client, url, pairs)

    assert answer.status == 200, answer.body[:300]
    assert answer.content_type == "text/xml"
    verbs = {verb.tag for verb in ET.fromstring(answer.body)}
    assert verbs & WAYS_FORWARD, answer.body
    phone.follow(url, answer)
    # The server turns a crash into an apology that Twilio accepts: hearing it means a bug.
    assert caller.catalog.render(line("error.technical")) not in " ".join(phone.heard)
    if phone.ended:
        # One request ends a call only after the advisor's call, or at the result (goodbye).
        assert target == "dial" or before is None
        return
    now = caller.question()
    at_result = caller.catalog.render(line("result.repeat")) in " ".join(phone.heard)
    if (now is not None and now != before and now not in caller.answered) or (at_result and before):
        # The noise counted as an answer: the caller corrects it with star, as the line offers.
        phone.press("*")
    caller.run()
    assert phone.ended
    assert caller.expected() in caller.result
