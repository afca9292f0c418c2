"""A postcode typed or said: keypad digits, Twilio transcripts in digits or in French words."""

from __future__ import annotations

import shutil

import pytest
import yaml

from ivr.app import create_app
from ivr.errors import ContentError
from ivr.places.heard import Kind, from_keys
from tests.places_fixtures import PROMPTS, places

PLACES = places()


@pytest.mark.parametrize(("keys", "code"), [("75011", "75011"), ("75011#", "75011"), ("23000", "23000"),
                                            ("20200#", "20200")])
def test_five_keys_with_or_without_the_hash_key_give_the_postcode(keys, code):
    assert from_keys(keys).candidates == (code,)
    assert PLACES.postcode(PLACES.entry(digits=keys)).code == code


@pytest.mark.parametrize(
    ("keys", "kind"),
    [("7501", Kind.INVALID), ("7501#", Kind.INVALID), ("750112", Kind.INVALID), ("75*11", Kind.INVALID),
     ("0", Kind.INVALID), ("*", Kind.BACK), ("", Kind.SILENCE), ("#", Kind.SILENCE)],
    ids=["four digits", "four digits and hash", "six digits", "star inside", "zero alone", "star", "silence",
         "hash alone"],
)
def test_wrong_keys_are_recognised_as_such(keys, kind):
    entry = PLACES.entry(digits=keys) if keys else PLACES.entry()
    assert entry.kind is kind
    assert PLACES.postcode(entry) is None


SPOKEN = [
    ("75011", "75011"),
    ("75011.", "75011"),
    ("75 0 11", "75011"),
    ("75 011", "75011"),
    ("7 5 0 1 1", "75011"),
    ("Soixante-quinze zéro onze.", "75011"),
    ("soixante quinze, zéro, onze", "75011"),
    ("Soixante-quinze mille onze.", "75011"),
    ("23 000", "23000"),
    ("23.000", "23000"),
    ("Vingt-trois mille.", "23000"),
    ("VINGT-TROIS MILLE", "23000"),
    ("vingt deux cents", "20200"),
    ("Vingt mille deux cents.", "20200"),
    ("Quatre-vingt-dix-sept quatre cents.", "97400"),
    ("Neuf sept quatre zéro zéro", "97400"),
    ("Treize zéro zéro huit", "13008"),
    ("Zéro un deux cents", "01200"),
    ("Soixante et onze mille", "71000"),
    ("C'est le 75011.", "75011"),
    ("Euh, mon code postal, c'est le 23000, merci.", "23000"),
    ("75 zéro 11", "75011"),
    ("nonante-sept quatre cents", "97400"),
]


@pytest.mark.parametrize(("said", "code"), SPOKEN, ids=[s for s, _ in SPOKEN])
def test_a_spoken_postcode_is_understood_as_twilio_transcribes_it(said, code):
    entry = PLACES.entry(speech=said)
    assert entry.kind is Kind.POSTCODE
    assert PLACES.postcode(entry).code == code


def test_words_read_two_ways_keep_both_readings_and_the_data_picks_the_one_it_knows():
    # « quatre-vingt un zéro zéro » is 80100 (Abbeville) or 4 then 2100: 42100 (Saint-Étienne).
    entry = PLACES.entry(speech="quatre vingt un zéro zéro")
    assert entry.candidates == ("80100", "42100")
    assert PLACES.postcode(entry).code == "80100"


@pytest.mark.parametrize(
    ("said", "kind"),
    [("7501", Kind.INVALID), ("soixante-quinze zéro un", Kind.INVALID), ("A B C D E", Kind.INVALID),
     ("Paris", Kind.INVALID), ("Je ne sais pas.", Kind.INVALID), ("deux mille", Kind.INVALID),
     ("75011 75011", Kind.INVALID), ("", Kind.SILENCE), ("  ...  ", Kind.SILENCE),
     ("étoile", Kind.INVALID)],
    ids=["four digits", "four digits in words", "letters", "a town", "a sentence", "4-digit number",
         "said twice", "silence", "only punctuation", "star said"],
)
def test_wrong_speech_is_recognised_as_such(said, kind):
    entry = PLACES.entry(speech=said)
    assert entry.kind is kind
    assert PLACES.postcode(entry) is None


@pytest.mark.parametrize(("said", "code"), [("00000", "00000"), ("98000", "98000"),
                                            ("quatre-vingt-dix-huit mille", "98000")],
                         ids=["00000", "Monaco", "Monaco in words"])
def test_a_well_formed_postcode_the_data_lacks_is_heard_but_not_found(said, code):
    entry = PLACES.entry(speech=said)
    assert entry.candidates == (code,)
    assert PLACES.postcode(entry) is None


@pytest.fixture
def prompts(tmp_path):
    folder = tmp_path / "fr"
    shutil.copytree(PROMPTS, folder)
    return folder


def edit_words(folder, change):
    path = folder / "understand-numbers.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (lambda d: d.pop("1000"), ["understand-numbers.yaml", "1000", "a list of words"]),
        (lambda d: d.update({"17": ["dix-sept"]}), ["understand-numbers.yaml", "17", "one of"]),
        (lambda d: d.update({"20": ["vingt deux"]}), ["understand-numbers.yaml", "20", "single words"]),
        (lambda d: d.update({"and": "et"}), ["understand-numbers.yaml", "and", "a list"]),
    ],
    ids=["missing value", "unknown value", "two words for a number", "not a list"],
)
def test_a_broken_number_words_file_stops_start_up(prompts, change, fragments):
    edit_words(prompts, change)
    with pytest.raises(ContentError) as error:
        create_app({"IVR_PROMPTS": str(prompts)})
    for fragment in fragments:
        assert fragment in str(error.value)
