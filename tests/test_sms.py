"""The result by SMS: offered to French mobiles only, sent through Twilio's REST API, at most 3 SMS,
and a call that goes on whatever Twilio answers."""

from __future__ import annotations

import base64
import logging
import secrets
import shutil
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import requests
import responses
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from ivr.app import create_app
from ivr.cli import main
from ivr.config import ROOT
from ivr.db import migrate
from ivr.db.tables import sms_outbox
from ivr.engine.reply import line
from ivr.engine.state import CallState, Phase
from ivr.errors import ConfigError, ContentError
from ivr.journal.events import now
from ivr.phone import Phone, flask_transport
from ivr.prompts import load_catalog
from ivr.sms.message import MAX_SEGMENTS, longest
from ivr.sms.outbox import Outbox
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
CAPPED = CATALOG.render(line("sms.capped"))
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


@pytest.fixture(autouse=True)
def outbox_of_its_own(config, tmp_path):
    """Each test its own outbox: the daily cap of one test's number must not reach the next test."""
    config["IVR_DATABASE_URL"] = f"sqlite:///{tmp_path / 'ivr.sqlite3'}"


@pytest.fixture
def sms(config):
    config.update({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "SMS_FROM": SMS_FROM})
    return config


def deliver(app) -> int:
    """One turn of the outbox's delivery loop, as a worker runs it every second."""
    outbox = app.extensions["ivr"].assistant.sms
    return outbox.deliver() if isinstance(outbox, Outbox) else 0


@pytest.fixture
def phone(app, monkeypatch):
    """Phones whose every request is followed by one turn of the delivery loop (here, not in a thread)."""
    monkeypatch.setattr(Outbox, "running", lambda self: None)

    def make(**options) -> Phone:
        transport = flask_transport(app.test_client())

        def then_deliver(url, form, headers):
            answer = transport(url, form, headers)
            deliver(app)
            return answer

        return Phone(then_deliver, auth_token=AUTH_TOKEN, **options)

    return make


@pytest.fixture
def twilio_api():
    """Twilio's REST API, intercepted: nothing leaves the machine, every request is kept."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
        yield api


def accepted(api) -> None:
    api.add(responses.POST, MESSAGES, status=201,
            json={"sid": "SM" + "0" * 32, "status": "queued", "account_sid": ACCOUNT_SID})


def at_result(phone, query: str = IMPOTS_AND_AMELI, caller: str = MOBILE):
    # Each call its own CallSid, as Twilio gives.
    line = phone(caller=caller, call_sid="CA" + secrets.token_hex(16))
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


# (failure, tries: how many times it is tried, told: whether the caller then hears it failed)
FAILURES = {
    "21211 invalid number": ({"status": 400, "json": _twilio_error(21211, 400)}, 1, True),
    "21612 unreachable": ({"status": 400, "json": _twilio_error(21612, 400)}, 1, True),
    "HTTP 500": ({"status": 500, "body": "Internal Server Error"}, 2, True),
    "HTTP 503": ({"status": 503, "json": _twilio_error(20503, 503)}, 2, True),
    "connect timeout": ({"body": requests.exceptions.ConnectTimeout("connect timed out")}, 2, True),
    # No clear answer: the message may have left, so it is neither tried again nor called failed.
    "read timeout": ({"body": requests.exceptions.ReadTimeout("read timed out")}, 1, False),
    "connection dropped": ({"body": requests.exceptions.ConnectionError("connection reset")}, 1, False),
    "HTTP 200 not JSON": ({"status": 200, "body": "<html><body>Gateway page</body></html>"}, 1, False),
    "HTTP 201 truncated JSON": ({"status": 201, "body": '{"sid": "SM0000'}, 1, False),
}


def later(app, seconds: int = 60) -> None:
    """Move the outbox's clock on, past the wait before a second try."""
    outbox = app.extensions["ivr"].assistant.sms
    outbox.clock = lambda: now() + timedelta(seconds=seconds)


@pytest.mark.parametrize(("failure", "tries", "told"), FAILURES.values(), ids=FAILURES.keys())
def test_when_twilio_fails_it_is_caught_counted_tried_at_most_twice_and_the_caller_told_if_known(
    sms, app, phone, twilio_api, caplog, failure, tries, told
):
    caplog.set_level(logging.DEBUG)
    twilio_api.add(responses.POST, MESSAGES, **failure)
    line = at_result(phone)
    line.press("2")
    # The webhook only queued it: the caller hears it is on its way.
    assert spoken(line).startswith(SENT)
    later(app)
    deliver(app)
    later(app, 120)
    deliver(app)
    assert len(twilio_api.calls) == tries
    line.press("1")
    if told:
        assert spoken(line).startswith(FAILED)
        assert line.waiting and OFFER not in spoken(line)
        line.press("1")
    assert BOTH in spoken(line)
    assert "SMS" in caplog.text and "612345678" not in caplog.text
    if "json" in failure:
        assert f"error {failure['json']['code']}" in caplog.text


def test_a_2xx_answer_from_twilio_that_is_not_json_is_caught_and_counted(sms, app, phone, twilio_api, caplog):
    caplog.set_level(logging.WARNING)
    twilio_api.add(responses.POST, MESSAGES, status=200, body="<html>Gateway page</html>")
    for caller in (MOBILE, "+33712345678"):
        line = at_result(phone, caller=caller)
        line.press("2")
        assert spoken(line).startswith(SENT)
    metrics = app.extensions["ivr.dashboard"].metrics
    assert metrics.sms_delivery.labels("unconfirmed")._value.get() == 2
    assert "not JSON" in caplog.text and "not-json failure 2 since start" in caplog.text
    assert "612345678" not in caplog.text


# Off the request path and limited where it counts (issue 11, rows 3 and 4)


def test_row_3_a_slow_twilio_api_does_not_hold_the_webhook_and_a_try_has_a_wall_clock_deadline(
    sms, app, client, twilio_api, caplog
):
    def slow(request):
        time.sleep(3)
        return 201, {}, '{"sid": "SM00000000000000000000000000000000", "status": "queued"}'

    twilio_api.add_callback(responses.POST, MESSAGES, callback=slow)
    outbox = app.extensions["ivr"].assistant.sms
    outbox.deadline = 0.5
    migrate.upgrade(outbox.engine)
    # Twilio takes 3 s: a webhook or a try that waited for it would take 3 s at least.
    began = time.monotonic()
    response = step_at_result(client, app, "CA" + "4" * 32, MOBILE)
    assert time.monotonic() - began < 2.0
    assert response.status_code == 200 and SENT in response.get_data(as_text=True)
    began = time.monotonic()
    assert deliver(app) == 1
    assert time.monotonic() - began < 2.5
    assert app.extensions["ivr.dashboard"].metrics.sms_delivery.labels("deadline")._value.get() == 1
    assert "not confirmed within" in caplog.text


def test_row_4_a_spoofed_caller_id_repeated_5_calls_gets_1_sms_a_day(sms, app, phone, twilio_api):
    accepted(twilio_api)
    heard = []
    for _ in range(5):
        line = at_result(phone)
        line.press("2")
        heard.append(spoken(line))
    assert len(twilio_api.calls) == 1
    assert heard[0].startswith(SENT)
    assert all(h.startswith(CAPPED) for h in heard[1:])


def test_row_4_the_daily_cap_holds_in_the_shared_database_for_every_worker(
    sms, config, twilio_api, database_url
):
    # Two servers (two workers, or two instances) on one database: the cap is the database's.
    config["IVR_DATABASE_URL"] = database_url
    accepted(twilio_api)
    apps = [create_app(config), create_app(config)]
    try:
        answers = [step_at_result(a.test_client(), a, f"CA{n:032d}", MOBILE).get_data(as_text=True)
                   for n, a in enumerate(apps * 2)]
        for one in apps:
            deliver(one)
    finally:
        for one in apps:
            stopped(one)
    assert len(twilio_api.calls) == 1
    assert sum(SENT in a for a in answers) == 1 and sum(CAPPED in a for a in answers) == 3


def test_row_4_an_exact_replay_of_one_signed_request_sends_one_sms(sms, app, client, twilio_api):
    accepted(twilio_api)
    sid = "CA" + "5" * 32
    state = CallState(Phase.RESULT, (("nir", True), ("affiliation_msa", True)))
    path = f"/voice/step?s={app.extensions['ivr'].assistant.tokens.seal(state, sid)}"
    form = {"CallSid": sid, "From": MOBILE, "To": "+33900000000", "Digits": "2"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost" + path, form)
    answers = [client.post(path, data=form, headers={"X-Twilio-Signature": signature}) for _ in range(3)]
    deliver(app)
    answers.append(client.post(path, data=form, headers={"X-Twilio-Signature": signature}))
    deliver(app)
    assert len(twilio_api.calls) == 1
    assert all(SENT in a.get_data(as_text=True) for a in answers)


def test_the_outbox_never_holds_the_number_in_clear(sms, app, phone, twilio_api, tmp_path):
    twilio_api.add(responses.POST, MESSAGES, status=503, json=_twilio_error(20503, 503))
    at_result(phone).press("2")
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("ivr.sqlite3*"))
    assert stored and b"612345678" not in stored and b"impots.gouv.fr" not in stored
    engine = app.extensions["ivr"].assistant.sms.engine
    with engine.connect() as connection:
        row = connection.execute(select(sms_outbox)).one()
    assert row.destination == app.extensions["ivr"].assistant.sms.destination(MOBILE)
    assert row.status == "queued" and row.sealed
    later(app)
    deliver(app)
    with engine.connect() as connection:
        row = connection.execute(select(sms_outbox)).one()
    # Settled: nothing left to open, even with the secret.
    assert row.status == "failed" and row.sealed is None


# Durable: what the outbox holds outlives the server that queued it


def stopped(app) -> None:
    """The server stops, as a worker does on a deploy: what it held in memory is gone."""
    app.extensions["ivr"].assistant.journal.close()
    app.extensions["ivr"].assistant.sms.close()


def outbox_row(app):
    with app.extensions["ivr"].assistant.sms.engine.connect() as connection:
        return connection.execute(select(sms_outbox)).one()


def test_a_queued_sms_survives_a_restart_and_leaves_from_the_next_server(
    sms, config, twilio_api, monkeypatch
):
    # The first server queues the message and stops before its delivery loop takes it.
    monkeypatch.setattr(Outbox, "running", lambda self: None)
    first = create_app(config)
    answer = step_at_result(first.test_client(), first, "CA" + "6" * 32, MOBILE)
    assert SENT in answer.get_data(as_text=True)
    stopped(first)
    assert not twilio_api.calls
    accepted(twilio_api)
    second = create_app(config)
    try:
        assert deliver(second) == 1
        row = outbox_row(second)
    finally:
        stopped(second)
    assert len(twilio_api.calls) == 1
    sent = form_of(twilio_api.calls[0])
    assert sent["To"] == MOBILE and sent["From"] == SMS_FROM
    # The result of that call (its MSA account), as it was queued.
    assert "- msa.fr" in sent["Body"]
    assert row.status == "sent" and row.sealed is None


def test_a_message_waiting_for_its_second_try_gets_it_after_a_restart_that_rotates_the_secret(
    sms, config, twilio_api, monkeypatch
):
    monkeypatch.setattr(Outbox, "running", lambda self: None)
    twilio_api.add(responses.POST, MESSAGES, status=503, json=_twilio_error(20503, 503))
    first = create_app(config)
    step_at_result(first.test_client(), first, "CA" + "7" * 32, MOBILE)
    assert deliver(first) == 1
    stopped(first)
    # Deployed again with a new secret; the old one stays accepted for a while.
    twilio_api.replace(responses.POST, MESSAGES, status=201,
                       json={"sid": "SM" + "0" * 32, "status": "queued", "account_sid": ACCOUNT_SID})
    rotated = {**config, "IVR_SECRET": "a-new-secret-after-the-rotation-0123456789",
               "IVR_SECRET_PREVIOUS": config["IVR_SECRET"]}
    second = create_app(rotated)
    try:
        # Not before the wait between two tries, even on a new server.
        assert deliver(second) == 0
        later(second)
        assert deliver(second) == 1
        row = outbox_row(second)
    finally:
        stopped(second)
    assert len(twilio_api.calls) == 2
    assert form_of(twilio_api.calls[1])["To"] == MOBILE
    assert row.status == "sent" and row.tries == 2


def test_a_server_that_stops_lets_the_sms_it_is_sending_settle_and_leaves_the_others_queued(
    sms, app, client, twilio_api
):
    sending = threading.Event()

    def slow(request):
        sending.set()
        time.sleep(1)
        return 201, {}, '{"sid": "SM00000000000000000000000000000000", "status": "queued"}'

    twilio_api.add_callback(responses.POST, MESSAGES, callback=slow)
    outbox = app.extensions["ivr"].assistant.sms
    migrate.upgrade(outbox.engine)
    # The first call's message starts the delivery loop, which takes it at once; the second waits.
    step_at_result(client, app, "CA" + "8" * 32, MOBILE)
    assert sending.wait(5)
    step_at_result(client, app, "CA" + "9" * 32, "+33712345678")
    began = time.monotonic()
    outbox.close()
    waited = time.monotonic() - began
    with outbox.engine.connect() as connection:
        statuses = dict(connection.execute(select(sms_outbox.c.destination, sms_outbox.c.status)).all())
    assert 0.3 < waited < outbox.deadline + 1
    assert len(twilio_api.calls) == 1
    assert statuses == {outbox.destination(MOBILE): "sent", outbox.destination("+33712345678"): "queued"}


def step_at_result(client, app, sid: str, caller: str):
    """Press 2 at the result of a call, signed as Twilio signs it: the webhook's answer."""
    state = CallState(Phase.RESULT, (("nir", True), ("affiliation_msa", True)))
    path = f"/voice/step?s={app.extensions['ivr'].assistant.tokens.seal(state, sid)}"
    form = {"CallSid": sid, "From": caller, "To": "+33900000000", "Digits": "2"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost" + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


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
    deliver(app)
    assert form_of(twilio_api.calls[0])["To"] == MOBILE
