"""The current flow, as a caller without internet lives it: what to bring, whom to call, the way
that needs no computer, plain help, and no question asked twice in a loop."""

from __future__ import annotations

import re

import pytest

from ivr.app import create_app
from ivr.engine.reply import PhoneNumber, line
from ivr.phone import Phone, flask_transport
from ivr.prompts import MAX_WORDS, WRITTEN, words
from tests.caller import Caller
from tests.conftest import AUTH_TOKEN, CURRENT, FLOWS, flow_ids, spoken


@pytest.fixture
def flow(app):
    return app.extensions["ivr"].call.flow


AMELI = {"carte_vitale": True, "coordonnees_bancaires": True, "email": True}


def test_the_current_flow_is_the_default(flow, app):
    assert app.config["IVR_SETTINGS"].flow == CURRENT
    assert flow.id == "franceconnect_2026"


def test_a_usable_account_comes_with_what_to_bring_and_its_phone_line_said_twice(caller, say, flow):
    heard = spoken(caller().answer(**AMELI).phone)
    ameli = next(p for p in flow.providers if p.id == "ameli")
    assert say("result.eligible", providers=(line("provider.ameli"),)) in heard
    assert say("result.bring", items=tuple(line(key) for key in ameli.bring)) in heard
    assert say("result.phone", number=PhoneNumber(ameli.phone)) in heard
    in_pairs = say("list.separator").join(say(f"number.{int(pair)}") for pair in ("36", "46"))
    assert heard.count(in_pairs) == 2


def test_the_phone_line_is_said_in_pairs_of_digits(say, flow):
    laposte = next(p for p in flow.providers if p.id == "laposte")
    text = say("result.phone", number=PhoneNumber(laposte.phone))
    assert say("number.0") + " " + say("number.9") in text  # « zéro neuf »
    assert say("number.69") in text and say("number.91") in text
    assert "09" not in text


def test_an_account_without_a_verified_phone_line_gets_none(caller, say, flow):
    heard = spoken(caller().answer(avis_impot=True, declaration_revenus=True, email=True).phone)
    assert say("result.eligible", providers=(line("provider.impots"),)) in heard
    for provider in flow.providers:
        if provider.phone:
            assert say("result.phone", number=PhoneNumber(provider.phone)) not in heard


def test_key_3_at_the_result_tells_the_next_usable_account_with_its_details(caller, say, flow):
    phone = caller().answer(avis_impot=True, declaration_revenus=True, **AMELI).phone
    both = (line("provider.impots"), line("provider.ameli"))
    assert say("result.eligible", providers=both) in spoken(phone)
    assert say("result.other") in spoken(phone)
    phone.press("3")
    heard = spoken(phone)
    assert heard.startswith(say("result.next", provider=line("provider.ameli")))
    assert say("result.phone", number=PhoneNumber("3646")) in heard
    assert say("caution.ameli_regimes") in heard
    phone.press("3")
    assert say("result.eligible", providers=both) in spoken(phone)


@pytest.mark.parametrize("path", FLOWS, ids=flow_ids)
@pytest.mark.parametrize("kind", ["usable", "none", "gate failed"])
def test_every_result_gives_the_way_that_needs_no_internet(config, path, kind):
    app = create_app({**config, "IVR_FLOW": str(path)})
    service = app.extensions["ivr"]
    flow, catalog = service.call.flow, service.renderer.catalog
    phone = Phone(flask_transport(app.test_client()), auth_token=AUTH_TOKEN)
    phone.dial()
    phone.press("1")
    current = Caller(phone, flow, catalog)
    if kind == "gate failed":
        phone.press("2")
    else:
        current.answer(default=kind == "usable")
    heard = spoken(phone)
    # The line finds the nearest France Services itself (key 4) where it used to send to the mairie.
    keys = ("help.france_services", "places.offer", "help.relative")
    offline = " ".join(catalog.render(line(key)) for key in keys)
    assert offline in heard, (kind, heard)


def test_nothing_usable_names_the_closest_what_is_missing_and_where_to_get_it(phone, say):
    caller = phone()
    # Known to the helpline: only the RIB is missing for ameli.
    caller.dial("/voice/transfer?nir=1&vitale=1&rib=0&email=1&avis=0&msa=0&smartphone=0&sms=0")
    heard = spoken(caller)
    assert say("result.none") in heard
    assert say("result.closest", provider=line("provider.ameli")) in heard
    missing = say("result.missing", item=line("label.coordonnees_bancaires"))
    assert f"{missing} {say('obtain.coordonnees_bancaires')}" in heard
    assert say("help.france_services") in heard


# Plain help, no dead ends


@pytest.mark.parametrize("words", ["C'est quoi ?", "Je ne comprends pas.", "Qu'est-ce que ça veut dire ?"])
def test_asking_what_it_means_gives_the_help_for_that_question_then_asks_it_again(caller, say, flow, words):
    current = caller()
    asked = current.asking
    current.phone.say(words)
    heard = spoken(current.phone)
    assert heard.startswith(say(flow.criterion(asked).help))
    assert current.asking == asked


def test_a_second_je_ne_sais_pas_moves_on_and_never_repeats_the_help(caller, say, flow):
    current = caller("1")
    asked = current.asking
    current.phone.press("3")
    assert say(flow.criterion(asked).help) in spoken(current.phone)
    assert current.asking == asked
    current.phone.say("Je ne sais pas.")
    heard = spoken(current.phone)
    assert heard.startswith(say("ask.doubt"))
    assert say(flow.criterion(asked).help) not in heard
    assert current.asking != asked


def test_an_item_noted_non_by_doubt_is_said_to_check_at_the_result(phone, say):
    caller = phone()
    caller.dial("/voice/transfer?nir=1&vitale=1&email=1&avis=0&msa=0&smartphone=0&sms=0")
    assert say("question.coordonnees_bancaires") in spoken(caller)
    caller.press("3")
    caller.press("3")
    heard = spoken(caller)
    assert say("result.doubts", items=(line("label.coordonnees_bancaires"),)) in heard
    assert say("result.missing", item=line("label.coordonnees_bancaires")) not in heard


def test_star_after_a_doubt_asks_the_question_again_with_its_help_available(phone, say):
    caller = phone()
    caller.dial("/voice/transfer?nir=1&vitale=1&email=1&avis=0&msa=0&smartphone=0&sms=0")
    caller.press("3")
    caller.press("3")
    caller.press("*")
    assert say("question.coordonnees_bancaires") in spoken(caller)
    caller.press("3")
    assert say("help.coordonnees_bancaires") in spoken(caller)


def test_doubt_on_the_prerequisite_asks_to_check_it_rather_than_saying_it_is_missing(call, say, flow):
    phone = call("3", "3")
    heard = spoken(phone)
    gate = line(flow.criterion("nir").label)
    assert say("result.check_gate", item=gate) in heard
    assert say("result.gate_failed", item=gate) not in heard
    assert say("help.france_services") in heard


def test_no_prompt_of_the_catalog_is_longer_than_25_words(app):
    texts = app.extensions["ivr"].renderer.catalog.texts
    assert all(words(text) <= MAX_WORDS for key, text in texts.items() if not key.startswith(WRITTEN))


def test_every_phone_number_in_a_spoken_prompt_is_said_twice(app):
    texts = app.extensions["ivr"].renderer.catalog.texts
    for key, text in texts.items():
        if key.startswith(WRITTEN):
            continue
        for number in set(re.findall(r"\b\d\d(?: \d\d)+\b", text)):
            assert text.count(number) == 2, (key, text)
