"""Helplines: a caller handed to an advisor with context, callers sent in by an operator, and the
fallback and status URLs of the Twilio console."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from ivr.app import create_app
from ivr.engine.reply import line
from ivr.engine.rules import infer
from ivr.engine.state import CallState, Phase
from ivr.errors import ConfigError, ContentError
from ivr.flow import load_flow
from ivr.phone import Phone, flask_transport
from tests.conftest import AUTH_TOKEN, FLOWS, SEED, flow_ids, spoken

HELPLINE = "+33187654321"
CALLER = "+33612345678"
LINE = "+33900000000"
CALL_SID = "CA" + "1" * 32
# The advisor's leg, on which Twilio fetches the whisper: a child of the caller's call.
ADVISOR_LEG = {"CallSid": "CA" + "7" * 32, "ParentCallSid": CALL_SID, "Direction": "outbound-dial"}
# Speech of about 150 words a minute: 50 words is 20 seconds.
WHISPER_WORDS = 50
DIAL_STATUSES_FAILED = ("busy", "no-answer", "failed", "canceled")


@pytest.fixture
def config(config):
    """These tests name the seed flow's criteria and helpline codes."""
    return {**config, "IVR_FLOW": str(SEED)}


@pytest.fixture
def helpline(config):
    config["HELPLINE_NUMBER"] = HELPLINE
    return config


class Recorder:
    """A transport that keeps every exchange, to read the TwiML Twilio would have received."""

    def __init__(self, transport):
        self.transport = transport
        self.documents: list[ET.Element] = []

    def __call__(self, url, form, headers):
        answer = self.transport(url, form, headers)
        if answer.status == 200:
            self.documents.append(ET.fromstring(answer.body))
        return answer

    def last(self, tag: str) -> ET.Element:
        """The last element with this tag in any document received."""
        found = [el for doc in self.documents for el in doc.iter(tag)]
        assert found, f"no <{tag}> in any TwiML received"
        return found[-1]


def recorded(app) -> tuple[Phone, Recorder]:
    recorder = Recorder(flask_transport(app.test_client()))
    return Phone(recorder, auth_token=AUTH_TOKEN, caller=CALLER, line=LINE), recorder


def signed_post(client, path: str, form: dict[str, str] | None = None, sign: bool = True):
    """POST as Twilio does, signed over the full URL and the form."""
    data = {"CallSid": CALL_SID, "From": CALLER, "To": LINE, **(form or {})}
    headers = {}
    if sign:
        headers["X-Twilio-Signature"] = RequestValidator(AUTH_TOKEN).compute_signature(
            "http://localhost" + path, data
        )
    return client.post(path, data=data, headers=headers)


def sealed(app, state: CallState) -> str:
    """The token the app puts in this call's URLs for `state`."""
    return app.extensions["ivr"].assistant.tokens.seal(state, CALL_SID)


def twiml(response) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.get_data(as_text=True))


def said(document: ET.Element) -> str:
    return " ".join(" ".join("".join(say.itertext()).split()) for say in document.iter("Say"))


def words(text: str) -> int:
    """Spoken words: punctuation standing alone (« : », « ; ») takes no time."""
    return sum(1 for word in text.split() if any(ch.isalnum() for ch in word))


def flow_of(app):
    return app.extensions["ivr"].call.flow


# To a human, with context


@pytest.mark.parametrize("number", ["0187654321", "+33 1 87 65 43 21", "33187654321", "+0187654321", "+33"])
def test_a_helpline_number_not_in_e164_stops_start_up_with_a_clear_message(config, number):
    config["HELPLINE_NUMBER"] = number
    with pytest.raises(ConfigError) as error:
        create_app(config)
    message = str(error.value)
    assert message.startswith("HELPLINE_NUMBER: ")
    assert "E.164" in message and "+33123456789" in message and repr(number) in message


@pytest.mark.parametrize("entry", ["0", "conseiller", "Je voudrais parler à un conseiller."])
def test_key_0_or_asking_for_an_advisor_dials_the_helpline_from_our_number(helpline, app, say, entry):
    phone, recorder = recorded(app)
    phone.dial()
    phone.press("1")
    phone.say(entry) if not entry.isdigit() else phone.press(entry)
    dial = recorder.last("Dial")
    number = dial.find("Number")
    assert number is not None and number.text == HELPLINE
    assert dial.get("callerId") == LINE
    assert dial.get("timeLimit") == "1800"
    assert dial.get("timeout") == "20"
    assert dial.get("action").startswith("/voice/dial?s=")
    assert number.get("url").startswith("/voice/whisper?s=")
    assert phone.dialled == [HELPLINE]
    assert say("transfer.intro") in " ".join(phone.transcript)


def test_the_time_limit_of_the_advisor_call_comes_from_the_settings(helpline, config):
    config["IVR_DIAL_TIME_LIMIT"] = "600"
    phone, recorder = recorded(create_app(config))
    phone.dial()
    phone.press("1")
    phone.press("0")
    assert recorder.last("Dial").get("timeLimit") == "600"


def test_three_failed_answers_transfer_to_the_advisor(helpline, call, say):
    phone = call("9", "9", "9")
    assert phone.dialled == [HELPLINE]
    transcript = " ".join(phone.transcript)
    assert f"{say('ask.too_many')} {say('transfer.intro')}" in transcript


def test_key_0_at_the_result_transfers_to_the_advisor(helpline, call, say):
    phone = call("2")
    assert say("keys.advisor") in spoken(phone)
    phone.press("0")
    assert phone.dialled == [HELPLINE]


@pytest.mark.parametrize(
    ("known", "whisper"),
    [
        (
            "nir=1&nf=1&rfr=1&nal=1",
            "Appel de la ligne FranceConnect. NIR en 1 ou 2 : oui. numéro fiscal : oui. revenu fiscal : oui. "
            "numéro d'accès : oui. Comptes possibles : impôts point gouv point fr.",
        ),
        (
            "nir=1&nf=0",
            "Appel de la ligne FranceConnect. NIR en 1 ou 2 : oui. numéro fiscal : non. "
            "Aucun compte possible pour l'instant.",
        ),
    ],
    ids=["yeses and a possible provider", "a no and none yet"],
)
def test_the_advisor_hears_the_line_the_answers_and_the_possible_providers(helpline, phone, known, whisper):
    line = phone()
    line.dial(f"/voice/transfer?{known}")
    line.press("0")
    assert line.whispers == [whisper]


def test_the_whisper_answers_in_twiml_without_hanging_up_so_the_caller_is_connected(helpline, app, client):
    state = CallState(Phase.ASK, answers=(("nir", True),), question="numero_fiscal")
    document = twiml(signed_post(client, f"/voice/whisper?s={sealed(app, state)}", ADVISOR_LEG))
    assert [child.tag for child in document] == ["Say"]
    assert document.find("Say").get("language") == "fr-FR"


def test_a_whisper_with_a_lost_state_still_tells_the_line(helpline, client, say):
    document = twiml(signed_post(client, "/voice/whisper?s=broken", ADVISOR_LEG))
    assert said(document).startswith(say("whisper.intro"))


def _whisper(client, app, answers) -> str:
    state = CallState(Phase.RESULT, answers=tuple(answers))
    return said(twiml(signed_post(client, f"/voice/whisper?s={sealed(app, state)}", ADVISOR_LEG)))


@pytest.mark.parametrize("path", FLOWS, ids=flow_ids)
@pytest.mark.parametrize("value", [True, False], ids=["all yes", "all no"])
def test_the_whisper_fits_in_20_seconds_even_when_every_criterion_is_answered(helpline, path, value):
    helpline["IVR_FLOW"] = str(path)
    app = create_app(helpline)
    text = _whisper(app.test_client(), app, [(c.id, value) for c in flow_of(app).criteria])
    assert words(text) <= WHISPER_WORDS, text


@pytest.mark.parametrize("path", FLOWS, ids=flow_ids)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_whisper_fits_in_20_seconds_for_any_answers(helpline, path, data):
    flow = load_flow(path)
    ids = [c.id for c in flow.criteria]
    chosen = data.draw(st.lists(st.sampled_from(ids), unique=True))
    answers = [(cid, data.draw(st.booleans())) for cid in chosen]
    app = _app_for(path)
    text = _whisper(app.test_client(), app, answers)
    assert words(text) <= WHISPER_WORDS, text


_APPS: dict[Path, object] = {}


def _app_for(path: Path):
    # One app per flow for the property test: building it is what costs, not the requests.
    if path not in _APPS:
        _APPS[path] = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HELPLINE_NUMBER": HELPLINE,
                                  "IVR_FLOW": str(path)})
    return _APPS[path]


def test_with_many_answers_the_advisor_hears_only_the_noes_and_the_providers(helpline, app, client):
    answers = [(c.id, c.id != "abonnement_orange") for c in flow_of(app).criteria]
    text = _whisper(client, app, answers)
    assert "Réponses non : Orange ou Sosh. Les autres réponses sont oui." in text
    assert "numéro fiscal" not in text
    assert "Comptes possibles : impôts point gouv point fr, ameli point fr, L'Identité Numérique" in text


def _dial_back(client, app, state: CallState, status: str) -> ET.Element:
    path = f"/voice/dial?s={sealed(app, state)}"
    return twiml(signed_post(client, path, {"DialCallStatus": status, "DialCallDuration": "0"}))


@pytest.mark.parametrize("status", DIAL_STATUSES_FAILED)
def test_an_advisor_who_does_not_answer_sends_the_caller_back_to_their_question(helpline, app, client, say,
                                                                                status):
    call = app.extensions["ivr"].call
    answers = (("nir", True),)
    asked = call.planner.next_question(infer(call.flow, answers))
    state = CallState(Phase.ASK, answers=answers, question=asked)
    document = _dial_back(client, app, state, status)
    gather = document.find("Gather")
    assert gather is not None, "the caller must never be dropped"
    text = said(document)
    question = app.extensions["ivr"].renderer.catalog.render(line(call.flow.criterion(asked).prompt))
    assert text.startswith(f"{say('transfer.failed')} {question}")
    back = app.extensions["ivr"].assistant.tokens.open(gather.get("action").split("s=")[1], CALL_SID)
    assert (back.phase, back.question, back.answers) == (Phase.ASK, asked, state.answers)
    assert back.transfer_failed


@pytest.mark.parametrize("status", DIAL_STATUSES_FAILED)
def test_an_advisor_who_does_not_answer_sends_the_caller_back_to_their_result(helpline, app, client, say,
                                                                              status):
    answers = (("nir", True), ("numero_fiscal", True), ("revenu_fiscal", True), ("numero_acces", True))
    document = _dial_back(client, app, CallState(Phase.RESULT, answers=answers), status)
    assert document.find("Gather") is not None
    text = said(document)
    usable = say("result.eligible", providers=(line("provider.impots"),))
    assert text.startswith(f"{say('transfer.failed')} {usable}")


def test_after_talking_with_the_advisor_the_caller_hears_goodbye(helpline, app, client, say):
    document = _dial_back(client, app, CallState(Phase.ASK, question="nir"), "completed")
    assert said(document) == say("goodbye")
    assert [child.tag for child in document] == ["Say", "Hangup"]


def test_a_caller_whose_transfer_failed_is_not_transferred_again_after_three_failures(helpline, call, say):
    phone = call("0", advisor_answers=False)
    assert say("transfer.failed") in spoken(phone)
    for _ in range(3):
        phone.press("9")
    assert phone.dialled == [HELPLINE]
    assert phone.ended
    assert say("help.france_services") in spoken(phone)


def test_without_a_helpline_key_0_says_there_is_no_advisor_then_keys_and_france_services(call, say):
    phone = call("1", "0")
    text = spoken(phone)
    assert text.startswith(f"{say('advisor.none')} {say('help.keys')} {say('help.france_services')}")
    assert phone.waiting and not phone.dialled
    assert say("keys.advisor") not in text


def test_without_a_helpline_the_question_after_help_is_the_same_one(call):
    phone = call("1")
    question = spoken(phone)
    phone.press("0")
    assert spoken(phone).endswith(question)


# From a human


def test_a_transferred_caller_hears_it_is_an_automated_service_then_the_first_question(app, phone, say):
    caller = phone()
    text = " ".join(caller.dial("/voice/transfer"))
    assert text.startswith(f"{say('transfer.welcome')} {say('keys.intro')}")
    assert say("greeting.welcome") not in text and say("transfer.about") not in text
    assert say(flow_of(app).criterion("nir").prompt) in text
    assert say("keys.answer") in text
    assert caller.waiting


def test_a_helpline_can_ask_for_the_introduction_to_franceconnect(phone, say):
    text = " ".join(phone().dial("/voice/transfer?intro=1"))
    assert say("transfer.about") in text


def test_answers_the_operator_already_knows_are_not_asked_again(app, phone):
    flow = flow_of(app)
    known = {"nir", "numero_fiscal", "revenu_fiscal"}
    caller = phone()
    heard = [" ".join(caller.dial("/voice/transfer?nir=1&nf=oui&rfr=1"))]
    while caller.waiting and len(heard) < 20:
        heard.append(" ".join(caller.press("1")))
    catalog = app.extensions["ivr"].renderer.catalog
    for cid in known:
        question = catalog.texts[flow.criterion(cid).prompt]
        assert not any(question in text for text in heard), f"asked again: {question}"
    assert any(catalog.render(line("result.repeat")) in text for text in heard)


def test_when_the_operator_knows_everything_the_caller_hears_the_result_at_once(phone, say):
    text = " ".join(phone().dial("/voice/transfer?nir=1&nf=1&rfr=1&nal=0&vitale=0&cni=0&orange=0&msa=1"))
    assert text.startswith(say("transfer.welcome"))
    assert say("result.eligible", providers=(line("provider.msa"),)) in text


def test_a_known_no_to_the_gate_gives_its_answer_at_once(app, phone, say):
    text = " ".join(phone().dial("/voice/transfer?nir=non"))
    assert say("result.gate_failed", item=line(flow_of(app).criterion("nir").label)) in text


def test_the_advisor_hears_the_answers_the_operator_gave(helpline, phone):
    line = phone()
    line.dial("/voice/transfer?nir=1&vitale=0")
    line.press("0")
    assert "NIR en 1 ou 2 : oui. carte Vitale : non." in line.whispers[0]


@pytest.mark.parametrize(
    "query",
    [
        "vitale=peut-etre",
        "inconnu=1",
        "nf=2",
        "nf=",
        "0612345678=1",
        "nf=%2B33612345678",
        "nf=1&nf=0",
        "%FF%FE=1",
        "x" * 300 + "=1",
    ],
)
def test_unusable_known_answers_are_ignored_and_logged_without_any_number(phone, caplog, query):
    caplog.set_level(logging.INFO, logger="ivr")
    text = " ".join(phone().dial(f"/voice/transfer?{query}"))
    assert "Avez-vous un numéro de sécurité sociale qui commence par 1 ou par 2 ?" in text
    assert "ignored" in caplog.text
    for number in ("0612345678", "33612345678", CALLER):
        assert number not in caplog.text


def test_a_criterion_asked_about_twice_with_one_value_counts_once(phone, caplog):
    text = " ".join(phone().dial("/voice/transfer?nir=1&NIR=oui"))
    assert "Avez-vous un numéro de sécurité sociale qui commence par 1 ou par 2 ?" not in text
    assert "Avez-vous" in text
    assert "ignored" not in caplog.text


def test_the_transfer_entry_refuses_unsigned_requests(client):
    assert signed_post(client, "/voice/transfer?nf=1", sign=False).status_code == 403


def test_a_signature_made_without_the_query_string_is_refused(client):
    data = {"CallSid": "CA" + "1" * 32, "From": CALLER, "To": LINE}
    signature = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost/voice/transfer", data)
    response = client.post("/voice/transfer?nf=1", data=data, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def _flow_file(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(FLOWS[0].read_text(encoding="utf-8"))
    change(data["criteria"])
    path = tmp_path / "flow.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_two_criteria_with_one_query_name_stop_start_up(tmp_path):
    def clash(criteria):
        criteria[1]["code"] = "same"
        criteria[2]["code"] = "same"

    with pytest.raises(ContentError, match=r"criteria\[2\]\.code: a query name of its own \('same'"):
        load_flow(_flow_file(tmp_path, clash))


@pytest.mark.parametrize("code", ["s", "silence", "intro", "cp"])
def test_a_query_name_used_by_the_webhooks_stops_start_up(tmp_path, code):
    def reserve(criteria):
        criteria[1]["code"] = code

    with pytest.raises(ContentError, match=r"criteria\[1\]\.code: a name other than cp, intro, s, silence"):
        load_flow(_flow_file(tmp_path, reserve))


@pytest.mark.parametrize("path", FLOWS, ids=flow_ids)
def test_every_criterion_of_every_flow_can_be_given_by_a_helpline(path):
    flow = load_flow(path)
    names = [c.query_name for c in flow.criteria]
    assert len(set(names)) == len(names)
    assert all(flow.by_code(name) == c.id for name, c in zip(names, flow.criteria, strict=True))


# When our server fails


def test_the_fallback_apologises_transfers_then_gives_in_person_help(helpline, client, say):
    document = twiml(signed_post(client, "/voice/fallback", {"ErrorCode": "11200"}))
    assert [child.tag for child in document] == ["Say", "Dial", "Say", "Hangup"]
    assert said(document).startswith(f"{say('fallback.apology')} {say('transfer.intro')}")
    dial = document.find("Dial")
    assert dial.text == HELPLINE and dial.get("action") is None
    assert say("help.france_services") in "".join(document.findall("Say")[1].itertext())


def test_without_a_helpline_the_fallback_gives_in_person_help_and_hangs_up(client, say):
    document = twiml(signed_post(client, "/voice/fallback"))
    assert [child.tag for child in document] == ["Say", "Hangup"]
    text = said(document)
    assert text.startswith(say("error.technical"))
    assert say("help.france_services") in text and text.endswith(say("goodbye"))


def test_the_fallback_needs_neither_the_engine_nor_a_state(helpline, app, client):
    service = app.extensions["ivr"]
    engineless = replace(service.assistant, call=None, understanding=None)
    app.extensions["ivr"] = replace(service, assistant=engineless)
    document = twiml(signed_post(client, "/voice/fallback?s=garbage"))
    assert document.find("Dial").text == HELPLINE


def test_the_fallback_refuses_unsigned_requests(client):
    assert signed_post(client, "/voice/fallback", sign=False).status_code == 403


STATUSES = ["queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled", "??"]


@pytest.mark.parametrize("status", STATUSES)
def test_status_callbacks_are_accepted_and_logged_without_the_number(client, caplog, status):
    # The call's end is a DEBUG line: at INFO, each request has its one line (ivr.request).
    caplog.set_level(logging.DEBUG, logger="ivr")
    response = signed_post(client, "/voice/status", {"CallStatus": status, "CallDuration": "42"})
    assert response.status_code == 204
    assert response.get_data() == b""
    assert CALLER not in caplog.text and "612345678" not in caplog.text
    assert "after 42 s" in caplog.text
    assert (f": {status} after" in caplog.text) == (status != "??")


def test_a_status_callback_without_a_duration_is_accepted(client):
    assert signed_post(client, "/voice/status", {"CallStatus": "ringing"}).status_code == 204


def test_status_callbacks_are_signed_too(client):
    assert signed_post(client, "/voice/status", {"CallStatus": "completed"}, sign=False).status_code == 403


def test_an_error_inside_a_webhook_answers_like_the_fallback(helpline, app, client):
    service = app.extensions["ivr"]
    app.extensions["ivr"] = replace(service, assistant=replace(service.assistant, call=None))
    document = twiml(signed_post(client, "/voice/step?s=x", {"Digits": "1"}))
    assert said(document).startswith("Excusez-nous, notre service a un problème technique.")
    assert document.find("Dial").text == HELPLINE


def test_on_a_call_placed_to_the_person_the_advisor_sees_our_number(helpline, app, client):
    state = CallState(Phase.ASK, question="nir")
    path = f"/voice/step?s={sealed(app, state)}"
    document = twiml(signed_post(client, path, {"From": LINE, "To": CALLER, "Direction": "outbound-api",
                                                "Digits": "0"}))
    assert document.find("Dial").get("callerId") == LINE


@pytest.mark.parametrize("to", ["sip:ligne@example.fr", "client:accueil", ""])
def test_a_call_to_a_sip_or_client_address_dials_the_advisor_without_a_caller_id(helpline, post, to):
    document = ET.fromstring(post("/voice", {"To": to}).get_data(as_text=True))
    for key in ("1", "0"):  # skip the greeting, then ask for the advisor
        action = document.find("Gather").get("action")
        document = ET.fromstring(post(action, {"To": to, "Digits": key}).get_data(as_text=True))
    dial = document.find("Dial")
    assert dial is not None
    assert dial.get("callerId") is None
