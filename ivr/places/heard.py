"""A postcode from what the caller typed or said: keys, digits in a transcript, or French number words."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cache

from ivr.engine.intents import normalise
from ivr.errors import ContentError

LENGTH = 5
# A transcript longer than this is a sentence, not a postcode: it is not searched.
MAX_TOKENS = 16
VALUES = (*range(17), 20, 30, 40, 50, 60, 70, 80, 90, 100, 1000)
AND, AROUND = "and", "around"
NUMBER_WORD_KEYS = (*(str(v) for v in VALUES), AND, AROUND)


class Kind(Enum):
    POSTCODE = "postcode"
    SILENCE = "silence"
    BACK = "back"  # the * key alone: ISO/IEC 13714's back
    INVALID = "invalid"


@dataclass(frozen=True)
class Entry:
    """What the caller gave: postcode candidates (likeliest first), nothing, back, or something else."""

    kind: Kind
    candidates: tuple[str, ...] = ()


SILENCE = Entry(Kind.SILENCE)
INVALID = Entry(Kind.INVALID)


def from_keys(digits: str) -> Entry:
    """Keys typed at the postcode question: five digits, optionally ended with #."""
    if digits.endswith("#"):
        digits = digits[:-1]
    if digits == "":
        return SILENCE
    if digits == "*":
        return Entry(Kind.BACK)
    if len(digits) == LENGTH and digits.isascii() and digits.isdigit():
        return Entry(Kind.POSTCODE, (digits,))
    return INVALID


class NumberWords:
    """French number words, as listed in prompts/fr/understand-numbers.yaml, read into digits."""

    def __init__(self, words: Mapping[str, tuple[str, ...]], origin: str = "understand-numbers.yaml") -> None:
        for key in words:
            if key not in NUMBER_WORD_KEYS:
                raise ContentError(origin, key, f"one of {', '.join(NUMBER_WORD_KEYS)}")
        for key in NUMBER_WORD_KEYS:
            if key not in words:
                raise ContentError(origin, key, "a list of words for this value")
        self.value: dict[str, int] = {}
        self.joiners: set[str] = set()
        for key, phrases in words.items():
            for phrase in phrases:
                word = normalise(phrase)
                if key in (AND, AROUND):
                    continue
                if " " in word or not word:
                    raise ContentError(origin, key, f"single words (found '{phrase}')")
                self.value[word] = int(key)
        self.joiners = {normalise(p) for p in words[AND]}
        around = sorted({normalise(p) for p in words[AROUND]} - {""}, key=len, reverse=True)
        self._around = re.compile(r"\b(" + "|".join(map(re.escape, around)) + r")\b") if around else None

    def entry(self, transcript: str, polite: tuple[str, ...] = ()) -> Entry:
        """A spoken postcode (« 75 0 11 », « soixante-quinze zéro onze », « vingt-trois mille »)."""
        text = normalise(transcript)
        if not text:
            return SILENCE
        for phrase in sorted((normalise(p) for p in polite), key=len, reverse=True):
            if phrase:
                text = re.sub(rf"\b{re.escape(phrase)}\b", " ", text)
        if self._around:
            text = self._around.sub(" ", text)
        tokens = tuple(text.split())
        known = all(t.isdigit() or t in self.value or t in self.joiners for t in tokens)
        if not tokens or len(tokens) > MAX_TOKENS or not known:
            return INVALID
        found = self._readings(tokens)
        return Entry(Kind.POSTCODE, found) if found else INVALID

    def _readings(self, tokens: tuple[str, ...]) -> tuple[str, ...]:
        """Every way to read the tokens as five digits, fewest numbers first (« quatre-vingt un » is 81)."""

        @cache
        def read(start: int) -> tuple[tuple[int, str], ...]:
            # (pieces, digits) for tokens[start:], at most LENGTH digits.
            if start == len(tokens):
                return ((0, ""),)
            out = []
            # Longest number first: « quatre vingt un » reads 81 before 4, 21.
            ends = [start + 1] if tokens[start].isdigit() else [
                end for end in range(len(tokens), start, -1)
                if not any(t.isdigit() for t in tokens[start:end])
            ]
            # A bare « cent » or « mille » multiplies the number before it: never a number of its own.
            if start and self.value.get(tokens[start]) in (100, 1000):
                return ()
            for end in ends:
                piece = tokens[start] if tokens[start].isdigit() else self._number(tokens[start:end])
                if piece is None:
                    continue
                for count, rest in read(end):
                    if len(piece) + len(rest) <= LENGTH:
                        out.append((count + 1, piece + rest))
            return tuple(out)

        complete = sorted((r for r in read(0) if len(r[1]) == LENGTH), key=lambda r: r[0])
        return tuple(dict.fromkeys(digits for _, digits in complete))

    def _number(self, words: tuple[str, ...]) -> str | None:
        value = self._cardinal(words)
        return None if value is None else str(value)

    def _units(self, words: tuple[str, ...]) -> int | None:
        """0 to 19: « sept », « dix-sept »."""
        if len(words) == 1:
            value = self.value.get(words[0])
            return value if value is not None and value <= 16 else None
        if len(words) == 2 and self.value.get(words[0]) == 10:
            unit = self.value.get(words[1])
            return 10 + unit if unit in (7, 8, 9) else None
        return None

    def _tens(self, words: tuple[str, ...]) -> int | None:
        """0 to 99: « vingt et un », « soixante-douze », « quatre-vingt-dix-sept », « nonante »."""
        small = self._units(words)
        if small is not None:
            return small
        # Soixante and quatre-vingt take 1 to 19 after them; the other tens 1 to 9.
        if len(words) >= 2 and self.value.get(words[0]) == 4 and self.value.get(words[1]) == 20:
            head, rest, most = 80, words[2:], 19
        elif words and self.value.get(words[0]) in (20, 30, 40, 50, 60, 70, 80, 90):
            head, rest = self.value[words[0]], words[1:]
            most = 19 if head == 60 else 9
        else:
            return None
        if not rest:
            return head
        joined = rest[0] in self.joiners
        unit = self._units(rest[1:] if joined else rest)
        if unit is None or not 1 <= unit <= most:
            return None
        # « et » only joins un and onze: « vingt et un », « soixante et onze ».
        if joined and unit not in (1, 11):
            return None
        return head + unit

    def _hundreds(self, words: tuple[str, ...]) -> int | None:
        """0 to 999: « deux cents », « cent douze »."""
        return self._scaled(words, 100, self._tens, 10)

    def _cardinal(self, words: tuple[str, ...]) -> int | None:
        """0 to 99 999: « vingt-trois mille », « soixante-quinze mille onze »."""
        return self._scaled(words, 1000, self._hundreds, 100)

    def _scaled(self, words: tuple[str, ...], scale: int, below: Callable[[tuple[str, ...]], int | None],
                most: int) -> int | None:
        """[times] scale [rest], as in « deux cents », « cent douze », « vingt-trois mille onze »."""
        marks = [i for i, w in enumerate(words) if self.value.get(w) == scale]
        if not marks:
            return below(words)
        if len(marks) > 1:
            return None
        left, right = words[: marks[0]], words[marks[0] + 1:]
        times = below(left) if left else 1
        rest = below(right) if right else 0
        if times is None or rest is None:
            return None
        # « cent », « mille », never « un cent »; nothing after the scale reads zero.
        if not 1 <= times < most or (left and times == 1) or (right and not rest):
            return None
        return times * scale + rest
