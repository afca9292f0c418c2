"""What the caller meant, from a key or from words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from enum import StrEnum

from ivr.engine.state import Phase


class Intent(StrEnum):
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"
    EXPLAIN = "explain"
    BACK = "back"
    REPEAT = "repeat"
    HELP = "help"
    SMS = "sms"
    NEXT = "next"
    PLACES = "places"
    SILENCE = "silence"
    INVALID = "invalid"


KEYS = {
    "1": Intent.YES,
    "2": Intent.NO,
    "3": Intent.UNSURE,
    "*": Intent.BACK,
    "#": Intent.REPEAT,
    "0": Intent.HELP,
}

# At the result no yes/no question is pending: key 2 sends the result by SMS, key 3 tells the
# next usable account, key 4 asks the postcode for the nearest France Services.
RESULT_KEYS = {**KEYS, "2": Intent.SMS, "3": Intent.NEXT, "4": Intent.PLACES}
# Hearing the places: 1 again, 2 the next two, * back to the result.
PLACES_KEYS = {**KEYS, "1": Intent.REPEAT, "2": Intent.NEXT}

SPOKEN = (
    Intent.YES, Intent.NO, Intent.UNSURE, Intent.EXPLAIN, Intent.BACK, Intent.REPEAT, Intent.HELP,
    Intent.SMS, Intent.NEXT, Intent.PLACES,
)
# Words of politeness or hesitation around an answer, never counted (see understand.yaml).
FILLER = "polite"


def from_digits(digits: str, phase: Phase | None = None) -> Intent:
    """The intent of one key press at this phase; anything but one known key is invalid."""
    if digits == "":
        return Intent.SILENCE
    keys = RESULT_KEYS if phase is Phase.RESULT else PLACES_KEYS if phase is Phase.PLACES else KEYS
    return keys.get(digits, Intent.INVALID)


def normalise(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


class Understanding:
    """Matches a transcript against the phrases of each intent, longest phrase first."""

    def __init__(self, vocabulary: Mapping[str, tuple[str, ...]], min_confidence: float) -> None:
        self.min_confidence = min_confidence
        phrases = [
            (normalise(p), None if intent == FILLER else Intent(intent))
            for intent, words in vocabulary.items()
            for p in words
        ]
        phrases.sort(key=lambda pair: -len(pair[0]))
        self._phrases = [(re.compile(rf"\b{re.escape(p)}\b"), i) for p, i in phrases if p]

    def intent(self, transcript: str, confidence: float | None) -> Intent:
        """One intent when the words name exactly one, confidently; otherwise invalid."""
        if confidence is None or not confidence >= self.min_confidence:
            return Intent.INVALID
        text = normalise(transcript)
        if not text:
            return Intent.SILENCE
        found: set[Intent] = set()
        for pattern, intent in self._phrases:
            text, hits = pattern.subn(" ", text)
            if hits and intent is not None:
                found.add(intent)
        leftover = text.split()
        # A clear answer wrapped in a few polite words still counts; a long sentence does not.
        if len(found) == 1 and len(leftover) <= 3:
            return found.pop()
        return Intent.INVALID
