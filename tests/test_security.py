"""Only Twilio may drive a call: signatures, tampered URLs, lost state, and no number in the logs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import string
import xml.etree.ElementTree as ET

import pytest

from ivr.app import create_app
from ivr.engine import summary
from ivr.engine.reply import line
from ivr.engine.state import CallState, Phase
from ivr.engine.token import Tokens
from ivr.phone import Phone, flask_transport
from tests.caller import Caller
from tests.conftest import AUTH_TOKEN, SECRET, signature


def first_action(post) -> str:
    return ET.fromstring(post("/voice").get_data(as_text=True)).find("Gather").get("action")


def test_a_request_signed_with_the_auth_token_is_served(post):
    assert post("/voice", {"CallSid": "CA1"}).status_code == 200


def test_a_forged_signature_is_refused_with_403(client):
    form = {"CallSid": "CA1"}
    forged = signature("http://localhost/voice", form, token="not-the-token")
    assert client.post("/voice", data=form, headers={"X-Twilio-Signature": forged}).status_code == 403


def test_a_missing_signature_is_refused_with_403(client):
    assert client.post("/voice", data={"CallSid": "CA1"}).status_code == 403


def test_a_signed_request_with_an_added_field_is_refused(client):
    headers = {"X-Twilio-Signature": signature("http://localhost/voice", {"CallSid": "CA1"})}
    response = client.post("/voice", data={"CallSid": "CA1", "Digits": "1"}, headers=headers)
    assert response.status_code == 403


def test_a_url_whose_state_token_was_altered_is_refused_with_403(client, post):
    action = first_action(post)
    form = {"Digits": "1"}
    headers = {"X-Twilio-Signature": signature("http://localhost" + action, form)}
    altered = action[:-1] + ("B" if action.endswith("A") else "A")
    assert client.post(altered, data=form, headers=headers).status_code == 403


def test_behind_a_tls_proxy_the_public_url_is_what_twilio_signed(config):
    config["PUBLIC_BASE_URL"] = "https://ivr.example.fr/"
    client = create_app(config).test_client()
    form = {"CallSid": "CA1"}
    good = {"X-Twilio-Signature": signature("https://ivr.example.fr/voice", form)}
    internal = {"X-Twilio-Signature": signature("http://localhost/voice", form)}
    assert client.post("/voice", data=form, headers=good).status_code == 200
    assert client.post("/voice", data=form, headers=internal).status_code == 403


def test_a_get_request_is_refused_with_405(client):
    assert client.get("/voice").status_code == 405


def test_for_local_use_without_an_auth_token_start_up_warns_that_signatures_are_not_checked(caplog):
    with caplog.at_level(logging.WARNING, logger="ivr"):
        create_app({"IVR_LOCAL": "1", "TWILIO_AUTH_TOKEN": ""})
    assert "TWILIO_AUTH_TOKEN" in caplog.text


@pytest.fixture
def unsigned():
    """An app run locally without an auth token, where a URL can be altered."""
    return create_app({"IVR_LOCAL": "1", "TWILIO_AUTH_TOKEN": "", "IVR_SECRET": SECRET})


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "q000.AAAAAAAA", "q0" + "1y" * 200 + ".x", "r~00.", "%00", "q~00.abc.def"],
    ids=["empty", "garbage", "bad-check", "too-long", "empty-check", "nul", "two-dots"],
)
def test_a_tampered_state_token_restarts_the_questions_with_an_apology(unsigned, token):
    service = unsigned.extensions["ivr"]
    catalog, flow = service.renderer.catalog, service.call.flow
    response = unsigned.test_client().post(f"/voice/step?s={token}", data={"Digits": "1"})
    assert response.status_code == 200
    text = " ".join(ET.fromstring(response.get_data(as_text=True)).itertext())
    assert catalog.render(line("ask.restart")) in text
    assert catalog.render(line(flow.criterion("nir").prompt)) in text


def test_a_token_from_another_flow_version_restarts_with_an_apology(tmp_path, unsigned):
    old = unsigned.test_client().post("/voice").get_data(as_text=True)
    action = ET.fromstring(old).find("Gather").get("action")
    edited = tmp_path / "flow.yaml"
    source = (unsigned.config["IVR_SETTINGS"].flow).read_text(encoding="utf-8")
    newer_version = re.sub(r"^version: (\d+)", lambda m: f"version: {int(m[1]) + 1}", source, flags=re.M)
    assert newer_version != source
    edited.write_text(newer_version, encoding="utf-8")
    newer = create_app({"IVR_LOCAL": "1", "TWILIO_AUTH_TOKEN": "", "IVR_SECRET": SECRET,
                        "IVR_FLOW": str(edited)})
    text = newer.test_client().post(action, data={"Digits": "1"}).get_data(as_text=True)
    assert newer.extensions["ivr"].renderer.catalog.render(line("ask.restart")) in text


def test_a_call_alternating_between_two_separately_created_apps_ends_right(config):
    apps = [create_app(config), create_app(config)]
    clients = [a.test_client() for a in apps]
    turn = iter(range(1000))

    def alternate(url, form, headers):
        return flask_transport(clients[next(turn) % 2])(url, form, headers)

    phone = Phone(alternate, auth_token=AUTH_TOKEN)
    phone.dial()
    phone.press("1")
    service = apps[0].extensions["ivr"]
    caller = Caller(phone, service.call.flow, service.renderer.catalog)
    caller.answer(carte_vitale=True, coordonnees_bancaires=True, email=True)
    heard = " ".join(phone.heard)
    expected = service.renderer.catalog.render(line("result.eligible", providers=(line("provider.ameli"),)))
    assert expected in heard
    assert next(turn) > 6


def test_no_phone_number_ever_reaches_the_logs(call, caplog):
    with caplog.at_level(logging.DEBUG):
        phone = call("1", "9", "0", caller="+33612345678")
        phone.press("1")
    assert caplog.records
    for digits in ("612345678", "33612345678", "900000000"):
        assert digits not in caplog.text


# The state token: sealed with the server's secret, bound to the call (issue 11, row 6)


def _heard(response) -> str:
    return " ".join(ET.fromstring(response.get_data(as_text=True)).itertext())


def _restarted(app, response) -> bool:
    service = app.extensions["ivr"]
    return service.renderer.catalog.render(line("ask.restart")) in _heard(response)


def _old_style_token(flow, payload: str) -> str:
    """A token forged as the review did: a MAC keyed with the flow file's digest, which is public."""
    mac = hmac.new(flow.digest.encode(), payload.encode(), hashlib.blake2s).digest()[:6]
    return f"{payload}.{base64.urlsafe_b64encode(mac).decode()}"


def test_a_token_forged_with_the_public_flow_digest_restarts_the_call(app, post):
    flow = app.extensions["ivr"].call.flow
    # At the result with every provider's criteria answered yes, as the old token format spelt it.
    forged = _old_style_token(flow, "r~00" + "".join(f"{chr(48 + i)}y" for i in range(10)))
    response = post(f"/voice/step?s={forged}", {"CallSid": "CA1", "Digits": "1"})
    assert response.status_code == 200
    assert _restarted(app, response)


def test_a_token_sealed_with_another_secret_restarts_the_call(app, post):
    flow = app.extensions["ivr"].call.flow
    forged = Tokens(flow, ["somebody-else-s-secret-of-enough-length"]).seal(CallState(Phase.RESULT), "CA1")
    assert _restarted(app, post(f"/voice/step?s={forged}", {"CallSid": "CA1", "Digits": "1"}))


def test_a_token_from_another_call_restarts_the_call(app, post):
    first = post("/voice", {"CallSid": "CA1"}).get_data(as_text=True)
    action = ET.fromstring(first).find("Gather").get("action")
    same = post(action, {"CallSid": "CA1", "Digits": "1"})
    assert not _restarted(app, same)
    other = post(action, {"CallSid": "CA2", "Digits": "1"})
    assert other.status_code == 200
    assert _restarted(app, other)


def test_the_answers_in_the_url_cannot_be_read_nor_compared_between_calls(app):
    tokens = app.extensions["ivr"].assistant.tokens
    yes = CallState(Phase.RESULT, (("nir", True),))
    no = CallState(Phase.RESULT, (("nir", False),))
    sealed = [tokens.seal(state, "CA1") for state in (yes, yes, no)]
    # Encrypted with a fresh nonce: the same answers never give the same token, a yes and a no
    # give tokens of the same length, and the token is opaque URL-safe base64 (no readable
    # separator or answer letter as in the old "r.nir1" tokens).
    assert len(set(sealed)) == 3
    assert len({len(token) for token in sealed}) == 1
    assert {tokens.open(token, "CA1") for token in sealed} == {yes, no}
    assert all(set(token) <= set(string.ascii_letters + string.digits + "-_") for token in sealed)


def test_a_token_sealed_before_a_secret_rotation_is_accepted_while_the_previous_secret_is_set(config):
    old = create_app({**config, "IVR_SECRET": "the-secret-of-last-month-0123456789"})
    path = ET.fromstring(old.test_client().post(
        "/voice", data={"CallSid": "CA1"},
        headers={"X-Twilio-Signature": signature("http://localhost/voice", {"CallSid": "CA1"})},
    ).get_data(as_text=True)).find("Gather").get("action")
    form = {"CallSid": "CA1", "Digits": "1"}
    headers = {"X-Twilio-Signature": signature("http://localhost" + path, form)}
    rotating = create_app({**config, "IVR_SECRET_PREVIOUS": "the-secret-of-last-month-0123456789"})
    rotated = create_app(config)
    assert not _restarted(rotating, rotating.test_client().post(path, data=form, headers=headers))
    assert _restarted(rotated, rotated.test_client().post(path, data=form, headers=headers))


def test_the_whisper_of_a_token_from_another_call_names_no_answer(config):
    config["HELPLINE_NUMBER"] = "+33187654321"
    app = create_app(config)
    service = app.extensions["ivr"]
    flow, catalog = service.call.flow, service.renderer.catalog
    state = CallState(Phase.ASK, (("nir", True),), question=flow.criteria[1].id)
    token = service.assistant.tokens.seal(state, "CA1")
    client = app.test_client()

    def whisper(parent: str) -> str:
        # Twilio fetches the whisper on the advisor's leg, whose parent is the caller's call.
        form = {"CallSid": "CA9", "ParentCallSid": parent}
        path = f"/voice/whisper?s={token}"
        headers = {"X-Twilio-Signature": signature("http://localhost" + path, form)}
        return _heard(client.post(path, data=form, headers=headers))

    def spoken(lines) -> str:
        return " ".join(catalog.render(item) for item in lines)

    assert whisper("CA1") == spoken(summary.whisper(flow, state))
    assert whisper("CA2") == spoken(summary.whisper(flow, CallState(Phase.GREET)))
