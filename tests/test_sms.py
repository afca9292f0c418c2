"""The result by SMS: offered to French mobiles only, sent through Twilio's REST API, at most 3 SMS,
and a call that goes on whatever Twilio answers."""

from __future__ import annotations

import base64
import logging
import shutil
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests
import responses
from twilio.request_validator import RequestValidator

from ivr.app import create_app
from ivr.cli import main
from ivr.config import ROOT
from ivr.engine.reply import line
from ivr.engine.state import CallState, Phase
from ivr.errors import ConfigError, ContentError
from ivr.prompts import load_catalog
from ivr.sms.message import MAX_SEGMENTS, longest
from ivr.sms.segments import Length, measure
from tests.conftest import AUTH_TOKEN, FLOWS, SEED, flow_ids, spoken

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
SERVICE_SID = "MG" + "fedcba9876543210" * 2
SMS_FROM = "+33700000001"
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
MOBILE = "+33612345678"
CATALOG = load_catalog(ROOT / "prompts" / "fr")
OFFER = CATALOG.render(line("sms.offer"))
SENT = CATALOG.render(line("sms.on_its_way"))
FAILED = CATALOG.render(line("sms.failed"))
GOODBYE = CATALOG.render(line("goodbye"))
# Every provider decided: impots and ameli usable (ameli has a caution), the others not.
IMPOTS_AND_AMELI = "nir=1&nf=1&rfr=1&nal=1&vitale=1&rib=1&cni=0&orange=0&msa=0"
BOTH = CATALOG.render(line("result.eligible", providers=(line("provider.impots"), line("provider.ameli"))))
ONLY_MSA = "nir=1&nf=0&vitale=0&cni=0&orange=0&msa=1"
NOTHING = "nir=1&nf=0&vitale=0&cni=0&orange=0&msa=0"


@pytest.fixture
def config(config):
    """These tests give the seed flow's answers by their helpline codes."""
    return {**config, "IVR_FLOW": str(SEED)}


@pytest.fixture
def sms(config):
    config.update({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "SMS_FROM": SMS_FROM})
    return config


@pytest.fixture
def twilio_api():
    """Twilio's REST API, intercepted: nothing leaves the machine, every request is kept."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
        yield api


def accepted(api) -> None:
    api.add(responses.POST, MESSAGES, status=201,
            json={"sid": "SM" + "0" * 32, "status": "queued", "account_sid": ACCOUNT_SID})


def at_result(phone, query: str = IMPOTS_AND_AMELI, caller: str = MOBILE):
    line = phone(caller=caller)
    line.dial(f"/voice/transfer?{query}")
    return line


def form_of(call) -> dict[str, str]:
    return {key: values[0] for key, values in urllib.parse.parse_qs(call.request.body).items()}


# Offered to French mobiles only


@pytest.mark.parametrize("caller", [MOBILE, "+33712345678"])
def test_the_result_offers_the_sms_to_a_french_mobile(sms, phone, caller):
    line = at_result(phone, caller=caller)
    assert BOTH in spoken(line)
    assert OFFER in spoken(line)


NOT_MOBILES = ["+33123456789", "+33912345678", "+447700900123", "+3361234567", "+336123456789", "anonymous",
               ""]


@pytest.mark.parametrize("caller", NOT_MOBILES)
def test_the_result_does_not_offer_the_sms_to_other_numbers(sms, phone, twilio_api, caller):
    line = at_result(phone, caller=caller)
    assert BOTH in spoken(line)
    assert OFFER not in spoken(line)
    line.press("2")
    assert line.ended and spoken(line) == GOODBYE
    assert len(twilio_api.calls) == 0


def test_the_result_does_not_offer_the_sms_when_sms_is_not_configured(phone, twilio_api):
    line = at_result(phone)
    assert OFFER not in spoken(line)
    line.press("2")
    assert line.ended
    assert len(twilio_api.calls) == 0


def test_a_result_without_any_provider_offers_no_sms(sms, phone):
    line = at_result(phone, NOTHING)
    assert "aucun compte ne correspond" in spoken(line)
    assert OFFER not in spoken(line)


def test_the_questions_do_not_offer_the_sms(sms, call):
    line = call("1")
    assert OFFER not in " ".join(line.transcript)


# Sent through Twilio's REST API


def test_key_2_at_the_result_sends_it_by_sms_from_our_number(sms, phone, twilio_api):
    accepted(twilio_api)
    line = at_result(phone)
    line.press("2")
    assert len(twilio_api.calls) == 1
    request = twilio_api.calls[0].request
    form = form_of(twilio_api.calls[0])
    assert set(form) == {"To", "From", "Body"}
    assert form["To"] == MOBILE and form["From"] == SMS_FROM
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {credentials}"
    assert request.req_kwargs["timeout"] == 5
    assert measure(form["Body"]) == Length("GSM-7", measure(form["Body"]).units, 3)
    assert spoken(line).startswith(SENT)


def test_saying_sms_at_the_result_sends_it_too(sms, phone, twilio_api):
    accepted(twilio_api)
    line = at_result(phone)
    line.say("Par SMS, merci.")
    assert len(twilio_api.calls) == 1
    assert spoken(line).startswith(SENT)


def test_saying_non_at_the_result_sends_nothing(sms, phone, twilio_api):
    line = at_result(phone)
    line.say("Non merci.")
    assert line.ended
    assert len(twilio_api.calls) == 0


@pytest.fixture
def messaging_service(config):
    config.update({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID})
    return config


@pytest.fixture
def sender_id(config):
    config.update({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "SMS_FROM": "FranceConn"})
    return config


def test_a_messaging_service_sends_without_a_from_number(messaging_service, phone, twilio_api):
    accepted(twilio_api)
    at_result(phone).press("2")
    form = form_of(twilio_api.calls[0])
    assert set(form) == {"To", "MessagingServiceSid", "Body"}
    assert form["MessagingServiceSid"] == SERVICE_SID


def test_the_sms_lists_the_usable_sites_with_their_help_lines_the_steps_and_the_ameli_caution(
    sms, phone, twilio_api
):
    accepted(twilio_api)
    at_result(phone).press("2")
    body = form_of(twilio_api.calls[0])["Body"]
    assert body.splitlines()[:5] == [
        CATALOG.render(line("sms.message.eligible")),
        CATALOG.render(line("sms.message.provider", site="impots.gouv.fr")),
        CATALOG.render(line("sms.message.provider_phone", site="ameli.fr", number="36 46")),
        CATALOG.render(line("sms.message.steps")),
        CATALOG.render(line("caution.ameli")),
    ]
    assert measure(body).segments <= MAX_SEGMENTS


def test_the_least_useful_line_is_dropped_when_it_would_make_a_fourth_sms(sms, phone, twilio_api):
    accepted(twilio_api)
    at_result(phone).press("2")
    body = form_of(twilio_api.calls[0])["Body"]
    offline = CATALOG.render(line("sms.message.offline"))
    assert offline not in body
    assert measure(f"{body}\n{offline}").segments > MAX_SEGMENTS


def test_the_way_without_internet_ends_the_sms_when_it_fits(sms, phone, twilio_api):
    accepted(twilio_api)
    at_result(phone, ONLY_MSA).press("2")
    body = form_of(twilio_api.calls[0])["Body"]
    assert body.splitlines()[-1] == CATALOG.render(line("sms.message.offline"))


def test_the_sms_has_no_ameli_caution_when_ameli_is_not_usable(sms, phone, twilio_api):
    accepted(twilio_api)
    at_result(phone, ONLY_MSA).press("2")
    body = form_of(twilio_api.calls[0])["Body"]
    assert "- msa.fr" in body.splitlines()
    assert "ameli" not in body and "impots" not in body


def test_after_the_sms_the_call_goes_on_at_the_result_without_offering_it_again(sms, phone, twilio_api):
    accepted(twilio_api)
    line = at_result(phone)
    line.press("2")
    assert line.waiting
    assert OFFER not in spoken(line)
    line.press("1")
    assert BOTH in spoken(line) and OFFER not in spoken(line)
    assert len(twilio_api.calls) == 1


def test_the_sms_is_reached_by_keys_from_the_first_question(sms, call, twilio_api):
    accepted(twilio_api)
    line = call()
    for _ in range(20):
        if OFFER in spoken(line):
            break
        line.press("1")
    line.press("2")
    assert spoken(line).startswith(SENT)
    assert form_of(twilio_api.calls[0])["To"] == MOBILE


def test_the_number_never_reaches_the_logs_when_the_sms_leaves(sms, phone, twilio_api, caplog):
    caplog.set_level(logging.DEBUG)
    accepted(twilio_api)
    at_result(phone).press("2")
    assert "SMS accepted by Twilio" in caplog.text
    assert "612345678" not in caplog.text


# Twilio fails: the caller is told and the call goes on


def _twilio_error(code: int, status: int) -> dict:
    return {
        "code": code,
        "message": f"The 'To' number {MOBILE} is not a valid phone number.",
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


FAILURES = {
    "21211 invalid number": {"status": 400, "json": _twilio_error(21211, 400)},
    "21612 unreachable": {"status": 400, "json": _twilio_error(21612, 400)},
    "HTTP 500": {"status": 500, "body": "Internal Server Error"},
    "HTTP 503": {"status": 503, "json": _twilio_error(20503, 503)},
    "connect timeout": {"body": requests.exceptions.ConnectTimeout("connect timed out")},
    "read timeout": {"body": requests.exceptions.ReadTimeout("read timed out")},
    "connection refused": {"body": requests.exceptions.ConnectionError("connection refused")},
    "HTTP 200 not JSON": {"status": 200, "body": "<html><body>Gateway page</body></html>"},
    "HTTP 201 truncated JSON": {"status": 201, "body": '{"sid": "SM0000'},
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_when_twilio_fails_the_caller_is_told_and_stays_at_the_result(sms, phone, twilio_api, caplog,
                                                                       failure):
    caplog.set_level(logging.DEBUG)
    twilio_api.add(responses.POST, MESSAGES, **failure)
    line = at_result(phone)
    line.press("2")
    assert len(twilio_api.calls) == 1
    assert spoken(line).startswith(FAILED)
    assert line.waiting and OFFER in spoken(line)
    line.press("1")
    assert BOTH in spoken(line)
    assert "SMS" in caplog.text and "612345678" not in caplog.text
    if "json" in failure:
        assert f"error {failure['json']['code']}" in caplog.text


def test_a_2xx_answer_from_twilio_that_is_not_json_is_caught_and_counted(sms, app, phone, twilio_api, caplog):
    caplog.set_level(logging.WARNING)
    twilio_api.add(responses.POST, MESSAGES, status=200, body="<html>Gateway page</html>")
    for _ in range(2):
        line = at_result(phone)
        line.press("2")
        assert spoken(line).startswith(FAILED)
    assert app.extensions["ivr"].assistant.sms.sender.failures["not-json"] == 2
    assert "not JSON" in caplog.text and "not-json failure 2 since start" in caplog.text
    assert "612345678" not in caplog.text


# At most 3 SMS, counted as Twilio bills them


SEGMENTS = [
    ("", "GSM-7", 0, 0),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("é" * 160, "GSM-7", 160, 1),
    ("€" * 80, "GSM-7", 160, 1),
    ("€" * 81, "GSM-7", 162, 2),
    # An escape sequence is never split: 152 septets then a two-septet character needs a second part.
    ("a" * 152 + "{" + "a" * 7, "GSM-7", 161, 2),
    ("a" * 152 + "{" + "a" * 152, "GSM-7", 306, 3),
    ("ê" * 70, "UCS-2", 70, 1),
    ("a" * 69 + "ô", "UCS-2", 70, 1),
    ("â" * 71, "UCS-2", 71, 2),
    ("î" * 134, "UCS-2", 134, 2),
    ("« »" * 45, "UCS-2", 135, 3),
    ("ç", "UCS-2", 1, 1),
    ("a" * 66 + "😀" + "a", "UCS-2", 69, 1),
    ("a" * 66 + "😀" + "a" * 5, "UCS-2", 73, 2),
]


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), SEGMENTS)
def test_segments_are_counted_as_twilio_bills_them(text, encoding, units, segments):
    assert measure(text) == Length(encoding, units, segments)


def test_the_longest_sms_of_the_seed_flow_is_gsm_7_within_3_segments(app):
    service = app.extensions["ivr"]
    length = measure(longest(service.call.flow, service.renderer.catalog))
    assert length.encoding == "GSM-7"
    assert length.segments <= MAX_SEGMENTS


@pytest.mark.parametrize("path", FLOWS, ids=flow_ids)
def test_the_longest_sms_of_every_flow_fits_in_3_segments(config, path):
    config["IVR_FLOW"] = str(path)
    service = create_app(config).extensions["ivr"]
    assert measure(longest(service.call.flow, service.renderer.catalog)).segments <= MAX_SEGMENTS


def test_a_message_that_would_need_ucs_2_stops_start_up(config, tmp_path):
    prompts = tmp_path / "fr"
    shutil.copytree(ROOT / "prompts" / "fr", prompts)
    sms_file = prompts / "sms.yaml"
    sms_file.write_text(sms_file.read_text(encoding="utf-8").replace("Ensuite", "Après, même"),
                        encoding="utf-8")
    config["IVR_PROMPTS"] = str(prompts)
    with pytest.raises(ContentError) as error:
        create_app(config)
    assert str(error.value).startswith(f"{sms_file}: sms: a result message of at most 3 SMS")
    assert "UCS-2" in str(error.value)


# Configuration


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"SMS_FROM": SMS_FROM}, "needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
        ({"TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID}, "needs TWILIO_ACCOUNT_SID"),
        ({"TWILIO_ACCOUNT_SID": "AC123"}, "TWILIO_ACCOUNT_SID: AC followed by 32 hexadecimal digits"),
        ({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_MESSAGING_SERVICE_SID": "MGxyz"},
         "TWILIO_MESSAGING_SERVICE_SID: MG followed by 32 hexadecimal digits"),
        ({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "SMS_FROM": "06 12 34 56 78"},
         "SMS_FROM: a phone number in E.164"),
    ],
)
def test_an_sms_set_up_that_cannot_work_stops_start_up_with_a_clear_message(config, settings, expected):
    config.update(settings)
    with pytest.raises(ConfigError, match=expected):
        create_app(config)


def test_an_alphanumeric_sender_id_is_accepted(sender_id, phone, twilio_api):
    accepted(twilio_api)
    at_result(phone).press("2")
    assert form_of(twilio_api.calls[0])["From"] == "FranceConn"


# In the terminal


def test_ivr_call_prints_the_sms_from_a_local_fake_instead_of_sending_it(capfd, twilio_api):
    code = main(["call", "--flow", str(SEED), "--transfer", IMPOTS_AND_AMELI, "--keys", "2"])
    out = capfd.readouterr().out
    assert code == 0
    assert "(SMS not sent: local fake; " in out
    assert "  sms| - impots.gouv.fr" in out
    assert SENT in out
    assert len(twilio_api.calls) == 0


def test_ivr_call_offers_no_sms_to_a_landline(capfd):
    main(["call", "--flow", str(SEED), "--transfer", IMPOTS_AND_AMELI, "--caller", "+33123456789",
          "--keys", "2"])
    out = capfd.readouterr().out
    assert OFFER not in out and "sms|" not in out


def test_the_sms_answer_is_valid_twiml(sms, client, twilio_api, app):
    # The phone simulator already parses every answer; this pins the verbs Twilio receives.
    accepted(twilio_api)
    answers = (("nir", True), ("affiliation_msa", True), ("numero_fiscal", False), ("carte_vitale", False),
               ("piece_identite_fr", False), ("abonnement_orange", False))
    state = CallState(Phase.RESULT, answers)
    path = f"/voice/step?s={app.extensions['ivr'].assistant.tokens.seal(state, 'CA' + '2' * 32)}"
    form = {"CallSid": "CA" + "2" * 32, "From": MOBILE, "To": "+33900000000", "Digits": "2"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost" + path, form)
    response = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    document = ET.fromstring(response.get_data(as_text=True))
    assert [child.tag for child in document] == ["Gather", "Redirect"]
    assert "".join(document.find("Gather").find("Say").itertext()).startswith(SENT)


def test_on_a_call_placed_to_the_person_the_sms_goes_to_the_called_number(sms, client, app, twilio_api):
    # A helpline that calls a person back and redirects the call here: Twilio posts Direction
    # outbound-api, our number in From and the person in To.
    accepted(twilio_api)
    state = CallState(Phase.RESULT, (("nir", True), ("affiliation_msa", True)))
    path = f"/voice/step?s={app.extensions['ivr'].assistant.tokens.seal(state, 'CA' + '3' * 32)}"
    form = {"CallSid": "CA" + "3" * 32, "From": SMS_FROM, "To": MOBILE, "Direction": "outbound-api",
            "Digits": "2"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost" + path, form)
    client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    assert form_of(twilio_api.calls[0])["To"] == MOBILE
