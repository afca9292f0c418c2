"""A call as the caller lives it: greeting, questions, keys, words, mistakes and the result."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ivr.engine.reply import line
from tests.conftest import SEED, spoken


@pytest.fixture
def config(config):
    """These tests name the seed flow's criteria."""
    return {**config, "IVR_FLOW": str(SEED)}


@pytest.fixture
def flow(app):
    return app.extensions["ivr"].call.flow


@pytest.fixture
def question(flow, say):
    return lambda cid: say(flow.criterion(cid).prompt)


def twiml(response) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.get_data(as_text=True))


def test_an_incoming_call_hears_it_is_an_automated_service_and_any_key_skips_it(call, say, post):
    phone = call(skip_greeting=False)
    assert spoken(phone) == say("greeting.welcome")
    assert phone.waiting
    gather = twiml(post("/voice")).find("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("timeout") == "1"


@pytest.mark.parametrize("key", list("0123456789*#"))
def test_any_key_skips_the_greeting_to_the_prerequisite_question(call, question, key):
    phone = call(key, skip_greeting=False)
    assert question("nir") in spoken(phone)


def test_silence_after_the_greeting_goes_on_to_the_first_question(call, question, say):
    phone = call(".", skip_greeting=False)
    assert question("nir") in spoken(phone)
    assert say("ask.silence") not in spoken(phone)


def test_each_question_is_spoken_inside_a_gather_that_hears_keys_and_french_speech(post):
    first = twiml(post("/voice"))
    action = first.find("Gather").get("action")
    document = twiml(post(action, {"Digits": "1"}))
    gather, after = list(document)
    assert gather.tag == "Gather"
    assert gather.get("input") == "dtmf speech"
    assert gather.get("language") == "fr-FR"
    assert gather.get("numDigits") == "1"
    assert gather.get("finishOnKey") == ""
    assert [child.tag for child in gather] == ["Say"]
    assert after.tag == "Redirect" and "silence=1" in after.text


def test_the_first_question_announces_every_key_but_back(call, say):
    heard = spoken(call())
    for key in ("keys.intro", "keys.answer", "keys.help"):
        assert say(key) in heard
    assert say("keys.back") not in heard
    assert say("keys.short") not in heard


def test_later_questions_end_with_the_short_reminder_only(call, say, question):
    heard = spoken(call("1"))
    assert heard.endswith(say("keys.short"))
    assert say("keys.answer") not in heard


def test_a_caller_with_all_impots_items_hears_impots_and_the_steps_once(caller, say, flow):
    heard = spoken(caller().answer(numero_fiscal=True, revenu_fiscal=True, numero_acces=True).phone)
    assert say("result.eligible", providers=(line("provider.impots"),)) in heard
    for step in flow.steps:
        assert heard.count(say(step)) == 1
    assert say("caution.ameli") not in heard
    assert say("result.repeat") in heard
    assert say("result.other") not in heard


def test_every_eligible_provider_is_named_in_one_sentence(caller, say):
    heard = spoken(caller().answer(default=True).phone)
    names = ("impots", "ameli", "laposte", "orange", "msa")
    assert say("result.eligible", providers=tuple(line(f"provider.{n}") for n in names)) in heard


def test_a_caller_eligible_for_ameli_hears_the_caution(caller, say):
    heard = spoken(caller().answer(carte_vitale=True, coordonnees_bancaires=True).phone)
    assert say("result.eligible", providers=(line("provider.ameli"),)) in heard
    assert say("caution.ameli") in heard


def test_the_social_security_number_is_never_asked_after_the_nir(caller, question):
    phone = caller().answer(default=True).phone
    assert question("numero_secu") not in " ".join(phone.transcript)


def test_the_shared_smartphone_question_is_asked_once(caller, question):
    phone = caller().answer(piece_identite_fr=True, validation_postier=True, abonnement_orange=True).phone
    assert " ".join(phone.transcript).count(question("smartphone")) == 1


def test_a_provider_is_dropped_at_its_first_no(caller, question):
    turns = caller().answer(default=True, numero_fiscal=False).phone.transcript
    at = next(i for i, said in enumerate(turns) if question("numero_fiscal") in said)
    later = " ".join(turns[at + 1 :])
    assert question("revenu_fiscal") not in later
    assert question("numero_acces") not in later


def test_a_valid_french_id_answers_the_id_question_too(caller, question):
    phone = caller().answer(default=True).phone
    assert question("piece_identite") not in " ".join(phone.transcript)


def test_the_result_replays_on_key_1_and_ends_with_goodbye_on_non(caller, say):
    phone = caller().answer(affiliation_msa=True).phone
    result = spoken(phone)
    assert " ".join(phone.press("1")) == result
    phone.say("Non merci.")
    assert spoken(phone) == say("goodbye")
    assert phone.ended


def test_a_first_silence_at_the_result_asks_whether_to_hear_it_again_then_goodbye(caller, say):
    phone = caller().answer(affiliation_msa=True).phone
    phone.wait()
    assert spoken(phone) == f"{say('result.again')} {say('result.repeat')}"
    assert phone.waiting
    phone.wait()
    assert spoken(phone) == say("goodbye")
    assert phone.ended


def test_silences_at_the_result_are_never_taken_for_misunderstanding(caller, say):
    phone = caller().answer(affiliation_msa=True).phone
    for _ in range(3):
        if phone.waiting:
            phone.wait()
    assert say("ask.too_many") not in " ".join(phone.transcript)
    assert phone.ended


def test_after_a_first_silence_key_1_replays_the_result(caller, say):
    phone = caller().answer(affiliation_msa=True).phone
    result = spoken(phone)
    phone.wait()
    assert " ".join(phone.press("1")) == result


def test_star_at_the_result_lets_the_caller_correct_the_last_answer(caller, say, question):
    current = caller().answer()
    last = [c.id for c in current.flow.criteria if question(c.id) in current.phone.transcript[-2]]
    current.phone.press("*")
    assert say("ask.back") in spoken(current.phone)
    assert current.asking == last[0]


def test_a_nir_not_starting_with_1_or_2_is_explained_with_where_to_get_it_and_help(call, say, flow):
    heard = spoken(call("2"))
    assert say("result.gate_failed", item=line(flow.criterion("nir").label)) in heard
    assert say(flow.criterion("nir").obtain) in heard
    assert say("help.france_services") in heard


def test_no_eligible_provider_names_the_closest_and_what_is_missing(phone, say):
    # A helpline already knows every answer but the numéro d'accès, so the order of questions
    # cannot change which provider is closest: impots.gouv.fr, with two yeses and one no.
    line_ = phone()
    line_.dial("/voice/transfer?nir=1&nf=1&rfr=1&vitale=0&cni=0&orange=0&piece=0&msa=0")
    line_.press("2")
    heard = spoken(line_)
    assert say("result.none") in heard
    assert say("result.closest", provider=line("provider.impots")) in heard
    assert say("result.missing", item=line("label.numero_acces")) in heard
    assert say("obtain.numero_acces") in heard
    assert say("help.france_services") in heard
    assert say("result.correct") in heard


def test_key_3_says_where_to_find_the_item_then_asks_again(caller, say, question):
    current = caller().answer(default=True, until="numero_acces")
    current.phone.press("3")
    heard = spoken(current.phone)
    assert say("help.numero_acces") in heard
    assert heard.endswith(question("numero_acces") + " " + say("keys.short"))


def test_star_goes_back_and_the_previous_answer_can_be_corrected(caller, say, question):
    current = caller("1")
    second = current.asking
    current.phone.press("2")
    current.phone.press("*")
    assert say("ask.back") in spoken(current.phone)
    assert current.asking == second
    current.phone.press("1")
    assert current.asking != second


def test_star_at_the_first_question_says_so_and_asks_it_again(call, say, question):
    phone = call("*")
    assert say("ask.at_first") in spoken(phone)
    assert question("nir") in spoken(phone)


def test_hash_repeats_the_question(caller, say):
    current = caller("1")
    asked = current.asking
    current.phone.press("#")
    assert current.asking == asked
    assert say("ask.invalid") not in spoken(current.phone)


def test_key_0_without_an_advisor_says_there_is_none_then_helps_and_asks_again(call, say, question):
    phone = call("0")
    heard = spoken(phone)
    assert heard.startswith(say("advisor.none"))
    assert say("help.keys") in heard
    assert say("help.france_services") in heard
    assert question("nir") in heard
    assert not phone.dialled


@pytest.mark.parametrize(
    "entry",
    ["5", "12", "*#", "9", "x" * 500, "日本", "\x00", " ", "\u00e9\u00e8"],
    ids=["5", "12", "star-hash", "9", "500-chars", "non-ascii", "nul", "space", "accents"],
)
def test_invalid_input_gets_a_kind_reprompt_with_the_keys(call, say, question, entry):
    phone = call()
    phone.post({"Digits": entry})
    heard = spoken(phone)
    assert say("ask.invalid") in heard or say("ask.silence") in heard
    assert say("keys.answer") in heard
    assert say("keys.repeat") in heard
    assert say("keys.back") not in heard  # still the first question: nothing to go back to
    assert question("nir") in heard


def test_an_invalid_answer_at_a_later_question_repeats_the_full_key_list_with_back(call, say):
    phone = call("1", "9")
    heard = spoken(phone)
    for key in ("ask.invalid", "keys.answer", "keys.back", "keys.repeat", "keys.help"):
        assert say(key) in heard


def test_a_post_without_digits_or_speech_is_heard_as_silence(call, say, question):
    phone = call()
    phone.post({})
    assert say("ask.silence") in spoken(phone)
    assert question("nir") in spoken(phone)


def test_a_post_without_call_sid_is_still_served(post):
    assert twiml(post("/voice", {})).find("Gather") is not None


def test_three_failed_tries_end_the_call_politely_without_an_advisor(call, say):
    phone = call("9", ".")
    assert phone.waiting
    phone.press("5")
    heard = spoken(phone)
    assert say("ask.too_many") in heard
    assert say("help.france_services") in heard
    assert say("goodbye") in heard
    assert phone.ended


def test_a_valid_answer_resets_the_tries_for_the_next_question(call, question):
    phone = call("9", "9", "1", "9", "9")
    assert phone.waiting


def test_the_call_still_ends_right_after_bad_input(caller, say):
    current = caller("9", "1", "#", "x" * 20, "*", ".", "1")
    heard = spoken(current.answer(affiliation_msa=True).phone)
    assert say("result.eligible", providers=(line("provider.msa"),)) in heard


@pytest.mark.parametrize(
    ("words", "intent"),
    [
        ("Oui.", "yes"),
        ("Ouais", "yes"),
        ("Bien sûr !", "yes"),
        ("OUI", "yes"),
        ("Oui, je l'ai.", "yes"),
        ("Oui, s'il vous plaît, madame.", "yes"),
        ("Euh… non, merci beaucoup.", "no"),
        ("Non.", "no"),
        ("Non merci.", "no"),
        ("Pas du tout.", "no"),
        ("Je ne sais pas.", "unsure"),
        ("Je sais pas", "unsure"),
        ("Répéter.", "repeat"),
        ("repeter", "repeat"),
        ("Retour.", "back"),
        ("Conseiller.", "help"),
        ("Banane.", "invalid"),
        ("Oui et non.", "invalid"),
    ],
)
def test_spoken_words_do_what_their_key_does(caller, words, intent):
    keys = {"yes": "1", "no": "2", "unsure": "3", "repeat": "#", "back": "*", "help": "0", "invalid": "5"}
    by_voice, by_key = caller("1"), caller("1")
    by_voice.phone.say(words)
    by_key.phone.press(keys[intent])
    assert by_voice.phone.heard == by_key.phone.heard


def test_low_confidence_speech_counts_as_invalid(call, say):
    phone = call()
    phone.say("Oui.", confidence=0.2)
    assert say("ask.invalid") in spoken(phone)


def test_speech_without_confidence_counts_as_invalid(call, say):
    phone = call()
    phone.post({"SpeechResult": "Oui."})
    assert say("ask.invalid") in spoken(phone)


def test_each_failed_try_gives_the_caller_more_time_to_answer(post):
    first = twiml(post("/voice"))
    question = twiml(post(first.find("Gather").get("action"), {"Digits": "1"})).find("Gather")
    retry = twiml(post(question.get("action"), {"Digits": "9"})).find("Gather")
    again = twiml(post(retry.get("action"), {"Digits": "9"})).find("Gather")
    assert [int(g.get("timeout")) for g in (question, retry, again)] == [6, 12, 18]


@pytest.mark.parametrize(
    ("entry", "expect"),
    [
        ("1", "result.repeat"),
        ("Oui.", "result.repeat"),
        ("#", "result.repeat"),
        ("Répéter.", "result.repeat"),
        ("*", "ask.back"),
        ("Retour.", "ask.back"),
        ("0", "advisor.none"),
        ("Conseiller.", "advisor.none"),
        ("Non.", "goodbye"),
        ("9", "ask.invalid"),
        ("Banane.", "ask.invalid"),
    ],
)
def test_each_key_and_word_at_the_result_does_what_the_result_announces(caller, say, entry, expect):
    current = caller().answer(affiliation_msa=True)
    phone = current.phone
    if all(ch in "0123456789*#" for ch in entry):
        phone.press(entry)
    else:
        phone.say(entry)
    assert say(expect) in spoken(phone)
    assert phone.ended == (expect == "goodbye")
