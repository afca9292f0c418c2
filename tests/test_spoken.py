"""The spoken-length estimate: French syllables, numbers and pauses, and the questions it weighs."""

from __future__ import annotations

import pytest

from ivr.config import ROOT
from ivr.content import load_content
from ivr.engine.reply import line
from ivr.engine.spoken import SECONDS_PER_COMMA, SECONDS_PER_STOP, measure, question_seconds, seconds


def syllables(text: str) -> int:
    return measure(text)[0]


@pytest.mark.parametrize(
    ("word", "count"),
    [
        ("bateau", 2), ("voiture", 2), ("bonjour", 2), ("maison", 2), ("oui", 1),
        ("carte", 1), ("cartes", 1), ("Vitale", 2), ("le", 1), ("de", 1), ("année", 2),
        ("réel", 2), ("naïf", 2), ("question", 2), ("quatre", 1), ("guichet", 2),
        ("sécurité", 4), ("smartphone", 2), ("l'", 0), ("e-mail", 2),
    ],
)
def test_a_word_has_as_many_syllables_as_french_says(word, count):
    assert syllables(word) == count


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("18", "dix-huit"), ("06", "zéro six"), ("2021", "deux mille vingt-et-un"),
        ("71", "soixante-onze"), ("99", "quatre-vingt-dix-neuf"), ("36 46", "trente-six quarante-six"),
        ("SMS", "èss èm èss"), ("fr", "èf èr"), ("@", "arobase"), ("«  »", ""),
    ],
)
def test_numbers_letters_and_symbols_count_as_they_are_read(text, said):
    assert syllables(text) == syllables(said)


def test_a_comma_and_a_sentence_end_are_pauses_but_the_last_mark_is_not():
    assert seconds("Oui, non") - seconds("Oui non") == pytest.approx(SECONDS_PER_COMMA)
    assert seconds("Oui. Non") - seconds("Oui non") == pytest.approx(SECONDS_PER_STOP)
    assert seconds("Oui non ?") == pytest.approx(seconds("Oui non"))


def test_the_longest_question_of_the_2026_flow_costs_about_twice_the_shortest():
    content = load_content(ROOT / "flows" / "franceconnect-2026.yaml", ROOT / "prompts" / "fr")
    costs = question_seconds(content.flow, content.catalog.render)
    assert 1.6 < max(costs.values()) / min(costs.values()) < 3.0
    assert max(costs, key=costs.get) in {"validation_postier", "smartphone_nfc", "piece_identite_laposte"}


def test_each_question_costs_its_own_seconds_plus_the_short_reminder():
    content = load_content(ROOT / "flows" / "franceconnect-seed.yaml", ROOT / "prompts" / "fr")
    costs = question_seconds(content.flow, content.catalog.render)
    reminder = seconds(content.catalog.render(line("keys.short")))
    assert set(costs) == {c.id for c in content.flow.criteria}
    for criterion in content.flow.criteria:
        alone = seconds(content.catalog.render(line(criterion.prompt)))
        assert costs[criterion.id] == pytest.approx(alone + reminder)
    assert costs["validation_postier"] > costs["carte_vitale"]
