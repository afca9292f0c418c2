"""The nearest France Services in the call: key 4 at the result, a postcode typed or said, read back,
two places at a time, bounded tries then the mairie, and the chosen place in the SMS."""

from __future__ import annotations

import urllib.parse

import pytest
import responses

from ivr.app import create_app
from ivr.db import migrate
from ivr.engine.reply import line
from ivr.phone import Phone, flask_transport
from ivr.places import say as places_say
from ivr.sms.outbox import Outbox
from ivr.sms.segments import measure
from tests.conftest import AUTH_TOKEN, SEED, spoken
from tests.places_fixtures import paris

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
# Every provider decided (seed flow): impots and ameli usable.
IMPOTS_AND_AMELI = "nir=1&nf=1&rfr=1&nal=1&vitale=1&rib=1&cni=0&orange=0&msa=0"
NOTHING = "nir=1&nf=0&vitale=0&cni=0&orange=0&msa=0"
MONDAY_10 = paris("2026-11-30 10:00")


@pytest.fixture
def app(config, tmp_path, monkeypatch):
    # An outbox of its own, delivered by the test (as a worker's loop would) rather than by a thread.
    monkeypatch.setattr(Outbox, "running", lambda self: None)
    config = {**config, "IVR_FLOW": str(SEED), "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "SMS_FROM": "+33700000001",
              "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}"}
    return create_app(config, clock=lambda: MONDAY_10)


@pytest.fixture
def places(app):
    return app.extensions["ivr"].assistant.call.places


@pytest.fixture
def render(app):
    catalog = app.extensions["ivr"].renderer.catalog
    return lambda lines: " ".join(catalog.render(item) for item in lines)


@pytest.fixture
def at_result(app):
    # The database made before the call, as `ivr db upgrade` does before a server starts.
    migrate.upgrade(app.extensions["ivr"].assistant.sms.engine)

    def dial(query: str = IMPOTS_AND_AMELI) -> Phone:
        phone = Phone(flask_transport(app.test_client()), auth_token=AUTH_TOKEN)
        phone.dial(f"/voice/transfer?{query}")
        return phone

    return dial


def readback(places, code: str):
    return places_say.readback(places.directory.postcode(code))


def page(places, code: str, number: int):
    directory = places.directory
    postcode = directory.postcode(code)
    return (*places_say.page(directory, postcode, number, MONDAY_10),
            *places_say.keys(places_say.more(directory, postcode, number)))


@pytest.mark.parametrize("query", [IMPOTS_AND_AMELI, NOTHING], ids=["accounts usable", "nothing usable"])
def test_every_result_offers_the_nearest_france_services_with_key_4_in_place_of_the_mairie(
    at_result, say, query
):
    heard = spoken(at_result(query))
    assert " ".join((say("help.france_services"), say("places.offer"), say("help.relative"))) in heard
    assert say("help.mairie") not in heard


def test_key_4_asks_the_postcode_and_twilio_gathers_five_keys_or_up_to_hash(at_result, say):
    phone = at_result()
    phone.press("4")
    assert spoken(phone) == " ".join(say(k) for k in ("places.ask", "places.ask_speech", "places.ask_back"))
    gather = phone._gather
    assert gather.get("numDigits") == "5" and gather.get("finishOnKey") == "#"
    assert gather.get("input") == "dtmf speech"


def test_a_typed_postcode_is_read_back_with_its_commune_then_the_two_nearest_places(
    at_result, places, render
):
    phone = at_result()
    phone.press("4")
    phone.press("23000")
    assert spoken(phone) == render(readback(places, "23000"))
    phone.press("1")
    assert spoken(phone) == render(page(places, "23000", 0))


@pytest.mark.parametrize("words, code", [("vingt-trois mille", "23000"), ("75 0 11", "75011"),
                                          ("soixante-quinze zéro onze", "75011"), ("23000", "23000")])
def test_a_spoken_postcode_is_read_back_as_twilio_transcribes_it(at_result, places, render, words, code):
    phone = at_result()
    phone.press("4")
    phone.say(words)
    assert spoken(phone) == render(readback(places, code))


def test_a_postcode_ended_with_hash_works_like_five_keys(at_result, places, render):
    phone = at_result()
    phone.press("4")
    phone.press("23000#")
    assert spoken(phone) == render(readback(places, "23000"))


@pytest.mark.parametrize("code", ["20000", "20200", "97400", "97600"], ids=["Ajaccio", "Bastia", "Réunion",
                                                                            "Mayotte"])
def test_corsica_and_overseas_postcodes_name_places_of_their_own_island(at_result, places, render, code):
    phone = at_result()
    phone.press("4")
    phone.press(code)
    phone.press("1")
    assert spoken(phone) == render(page(places, code, 0))
    zone = places.directory.postcode(code).zone
    assert all(n.zone == zone for n in places.directory.nearest(places.directory.postcode(code)))


def test_key_2_gives_the_next_two_key_1_repeats_and_star_goes_back_to_the_result(
    at_result, places, render, say
):
    phone = at_result()
    for keys in ("4", "23000", "1"):
        phone.press(keys)
    phone.press("2")
    assert spoken(phone) == render(page(places, "23000", 1))
    phone.press("1")
    assert spoken(phone) == render(page(places, "23000", 1))
    phone.press("*")
    heard = spoken(phone)
    assert heard.startswith(say("places.back"))
    assert say("result.repeat") in heard
    # Back at the result, key 1 says the whole result again.
    phone.press("1")
    both = (line("provider.impots"), line("provider.ameli"))
    assert say("result.eligible", providers=both) in spoken(phone)


def test_after_the_last_places_there_is_no_next_key_and_the_line_does_not_loop(at_result, places, say):
    phone = at_result()
    for keys in ("4", "23000", "1", "2", "2"):
        phone.press(keys)
    assert say("places.keys.next") not in spoken(phone)
    phone.press("2")  # no next page: an invalid key here, said as such
    assert spoken(phone).startswith(say("ask.invalid"))
    phone.press("9")
    phone.press("9")
    assert say("places.back") in spoken(phone)


def test_an_unknown_postcode_gets_a_clear_sentence_and_one_more_try_then_the_mairie(at_result, say):
    phone = at_result()
    phone.press("4")
    phone.press("00000")
    assert spoken(phone) == " ".join((say("places.not_found", postcode="00000"), say("places.try_again"),
                                      say("places.ask"), say("places.ask_speech"), say("places.ask_back")))
    phone.press("98000")  # Monaco: its own postcodes, not La Poste's France
    heard = spoken(phone)
    assert heard.startswith(" ".join((say("places.not_found", postcode="98000"), say("places.mairie"),
                                      say("places.back"))))
    assert say("result.repeat") in heard and phone.waiting


@pytest.mark.parametrize("entry", ["2300#", "abc", "bonjour madame"], ids=["4 digits", "letters", "words"])
def test_bad_input_at_the_postcode_is_told_then_the_mairie(at_result, say, entry):
    phone = at_result()
    phone.press("4")
    phone.post({"Digits": entry}) if entry == "2300#" else phone.say(entry)
    assert spoken(phone).startswith(" ".join((say("places.invalid"), say("places.ask"))))
    phone.say(entry) if entry != "2300#" else phone.press(entry)
    fallback = (say("places.invalid"), say("places.mairie"), say("places.back"))
    assert spoken(phone).startswith(" ".join(fallback))


def test_silence_at_the_postcode_asks_again_once_then_the_mairie(at_result, say):
    phone = at_result()
    phone.press("4")
    phone.wait()
    assert spoken(phone).startswith(" ".join((say("ask.silence"), say("places.ask"))))
    phone.wait()
    assert spoken(phone).startswith(" ".join((say("ask.silence"), say("places.mairie"), say("places.back"))))


def test_star_at_the_postcode_goes_back_to_the_result(at_result, say):
    phone = at_result()
    phone.press("4")
    phone.press("*")
    assert spoken(phone).startswith(say("places.back"))


def test_saying_no_to_the_read_back_asks_again_and_counts_as_a_try(at_result, places, render, say):
    phone = at_result()
    phone.press("4")
    phone.press("23000")
    phone.press("2")
    assert spoken(phone).startswith(" ".join((say("places.again"), say("places.ask"))))
    phone.press("75011")
    assert spoken(phone) == render(readback(places, "75011"))
    phone.press("2")
    assert spoken(phone).startswith(" ".join((say("places.mairie"), say("places.back"))))


def test_the_sms_after_the_places_carries_the_first_place_last_heard_in_3_segments(at_result, places, app):
    catalog = app.extensions["ivr"].renderer.catalog
    phone = at_result()
    for keys in ("4", "23000", "1", "2", "*"):
        phone.press(keys)
    with responses.RequestsMock() as api:
        api.add(responses.POST, MESSAGES, status=201,
                json={"sid": "SM" + "0" * 32, "status": "queued", "account_sid": ACCOUNT_SID})
        phone.press("2")
        app.extensions["ivr"].assistant.sms.deliver()
        body = {k: v[0] for k, v in urllib.parse.parse_qs(api.calls[0].request.body).items()}["Body"]
    directory = places.directory
    third = directory.nearest(directory.postcode("23000"), 1, 2)[0]
    expected = [catalog.render(item) for item in places_say.sms(third, MONDAY_10)]
    assert expected[0] in body.splitlines() and expected[1] in body.splitlines()
    assert measure(body).segments <= 3 and measure(body).encoding == "GSM-7"


def test_the_sms_without_places_heard_carries_no_place(at_result, app):
    catalog = app.extensions["ivr"].renderer.catalog
    phone = at_result()
    with responses.RequestsMock() as api:
        api.add(responses.POST, MESSAGES, status=201,
                json={"sid": "SM" + "0" * 32, "status": "queued", "account_sid": ACCOUNT_SID})
        phone.press("2")
        app.extensions["ivr"].assistant.sms.deliver()
        body = urllib.parse.parse_qs(api.calls[0].request.body)["Body"][0]
    assert catalog.render(line("sms.message.eligible")) in body
    assert "Tél." not in body


def test_a_postcode_passed_on_by_the_helpline_is_read_back_at_key_4_without_asking(app, places, render):
    phone = Phone(flask_transport(app.test_client()), auth_token=AUTH_TOKEN)
    phone.dial(f"/voice/transfer?{IMPOTS_AND_AMELI}&cp=23000")
    phone.press("4")
    assert spoken(phone) == render(readback(places, "23000"))


@pytest.mark.parametrize("cp", ["2300", "00000", "abcde", "+33612345678"])
def test_a_bad_postcode_from_the_helpline_is_ignored_and_asked_at_key_4(app, say, cp):
    phone = Phone(flask_transport(app.test_client()), auth_token=AUTH_TOKEN)
    phone.dial(f"/voice/transfer?{IMPOTS_AND_AMELI}&cp={urllib.parse.quote(cp)}")
    assert say("places.offer") in spoken(phone)
    phone.press("4")
    assert spoken(phone).startswith(say("places.ask"))
