"""How many SMS a text costs: GSM-7 when every character allows it, UCS-2 otherwise."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# GSM 03.38 basic character set (the escape code 0x1B left out) and its extension table,
# whose characters take two septets (escape + character).
GSM_BASIC = frozenset(
    "@$\n\r_ !\"#%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    # Written as escapes, the rest of the table: pound, yen, e/e/u/i/o grave and acute, C cedilla,
    # O slash, A ring, Greek capitals, AE, sharp s, E acute, currency sign, inverted marks,
    # A/O/N/U and a/o/n/u with diaeresis or tilde, section sign, a grave.
    "\u00a3\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\u00d8\u00f8\u00c5\u00e5\u00c6\u00e6\u00df\u00c9"
    "\u0394\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u00a4\u00a1\u00bf\u00a7"
    "\u00c4\u00d6\u00d1\u00dc\u00e4\u00f6\u00f1\u00fc\u00e0"
)
GSM_EXTENSION = frozenset("\f^{}\\[]~|€")

# (characters in a single SMS, characters per part of a multipart SMS), per encoding.
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class Length:
    """A text's encoding, its size in that encoding's units, and the SMS it takes."""

    encoding: str
    units: int
    segments: int


def _costs(text: str) -> tuple[str, list[int]]:
    if all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text):
        return "GSM-7", [2 if ch in GSM_EXTENSION else 1 for ch in text]
    # UTF-16 code units: a character beyond the BMP (an emoji) takes a surrogate pair.
    return "UCS-2", [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def measure(text: str) -> Length:
    """The encoding and number of segments Twilio will bill for this text."""
    encoding, costs = _costs(text)
    units = sum(costs)
    single, part = LIMITS[encoding]
    if units <= single:
        return Length(encoding, units, 1 if units else 0)
    # A two-unit character (escape sequence, surrogate pair) is never split across two parts.
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return Length(encoding, units, segments)


# Characters outside GSM-7 found in names and addresses, and what to write instead.
FOLDS = {"œ": "oe", "Œ": "OE", "æ": "ae", "’": "'", "‘": "'", "«": '"', "»": '"', "–": "-", "—": "-",
         "\u00a0": " ", "…": "...", "°": "o"}


def gsm7(text: str) -> str:
    """The text in GSM-7 characters only: accents GSM-7 lacks dropped (ê → e, ç → c), the rest folded."""
    out = []
    for ch in text:
        if ch in GSM_BASIC or ch in GSM_EXTENSION:
            out.append(ch)
        elif ch in FOLDS:
            out.append(FOLDS[ch])
        else:
            base = unicodedata.normalize("NFKD", ch)[0]
            out.append(base if base in GSM_BASIC else "")
    return "".join(out)
