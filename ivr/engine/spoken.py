"""How long a French sentence takes to say, estimated from its syllables and pauses (no audio).

The planner weighs each question by the seconds it takes (ivr.engine.search). A syllable is a
group of vowel letters (« eau », « oi », « ou », « ai » are one), with French rules good enough
for prompts: a final « e » or « es » after a consonant is silent; « qu », and « gu » before e or
i, keep their u silent; « é » before a vowel (but in a final « ée ») and « ë », « ï », « ü »
start a syllable of their own; numbers are read as words (« 18 » is « dix-huit », « 06 » is
« zéro six »); a word in capitals or without a vowel is spelled (« SMS », « fr »); symbols are
read (« @ » is « arobase »). Commas and sentence ends are pauses.

The constants below were fitted by least squares on every prompt of prompts/fr, against
`espeak-ng -v fr -s 150` measured with `soxi -D`: `python bench/calibrate.py` measures, fits
and prints them, with the error of the ones shipped here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ivr.engine.reply import Line, line
from ivr.flow import Flow

# Fitted by bench/calibrate.py (146 prompts of prompts/fr, espeak-ng -v fr -s 150, 28 Nov 2026):
# mean absolute error 0.18 s on prompts of 3.4 s on average, correlation 0.996.
SECONDS_PER_SYLLABLE = 0.1800
SECONDS_PER_COMMA = 0.2941
SECONDS_PER_STOP = 0.6872
SECONDS_TO_START = 0.4758

# The prompt said after every question but the first: its seconds are part of each question's cost.
REMINDER = "keys.short"

VOWELS = "aeiouyàâäéèêëîïôöùûüÿœæ"
VOWEL_GROUP = re.compile(f"[{VOWELS}]+")
# Inside a vowel group these start a syllable of their own: « réel », « naïf », « Noël ».
HIATUS = re.compile(f"é(?!es?$)(?=[{VOWELS}])|(?<=[{VOWELS}])[ëïü]")
SILENT_U = re.compile(r"(?<=q)u|(?<=g)u(?=[eiéèêy])")
SILENT_END = re.compile(f"[^{VOWELS}]es?$")
TOKEN = re.compile(r"\d+|[^\W\d_]+|[,;:()—–]|[.?!…]+|[@&%€+*#/=]")
COMMA = ",;:()—–"
SYMBOLS = {"@": "arobase", "&": "et", "%": "pour cent", "€": "euros", "+": "plus", "*": "étoile",
           "#": "dièse", "/": "barre", "=": "égal"}

UNITS = (
    "zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze",
    "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf",
)
TENS = ("", "", "vingt", "trente", "quarante", "cinquante", "soixante", "soixante", "quatre-vingt",
        "quatre-vingt")


def seconds(text: str) -> float:
    """The estimated seconds `text` takes to say in French at espeak-ng's 150 words a minute."""
    syllables, commas, stops = measure(text)
    return (SECONDS_TO_START + SECONDS_PER_SYLLABLE * syllables + SECONDS_PER_COMMA * commas
            + SECONDS_PER_STOP * stops)


def measure(text: str) -> tuple[int, int, int]:
    """(syllables, short pauses, sentence pauses) of a text; a pause at its very end is not heard."""
    syllables = commas = stops = 0
    tokens = TOKEN.findall(text)
    for k, token in enumerate(tokens):
        last = k == len(tokens) - 1
        if token[0] in COMMA:
            commas += not last
        elif token[0] in ".?!…":
            stops += not last
        elif token.isdigit():
            syllables += sum(word_syllables(w) for w in re.split("[ -]", number_words(token)))
        elif token in SYMBOLS:
            syllables += sum(word_syllables(w) for w in SYMBOLS[token].split())
        elif len(token) > 1 and (token.isupper() or not VOWEL_GROUP.search(token.lower())):
            syllables += len(token)
        else:
            syllables += word_syllables(token.lower())
    return syllables, commas, stops


def word_syllables(word: str) -> int:
    """The syllables of one lower-case word; an elided « l' » or « d' » has none."""
    word = SILENT_U.sub("", word)
    groups = len(VOWEL_GROUP.findall(word)) + len(HIATUS.findall(word))
    if groups > 1 and SILENT_END.search(word):
        groups -= 1
    return groups


def number_words(digits: str) -> str:
    """A string of digits as French reads it: a leading zero said on its own, then the number."""
    if len(digits) > 1 and digits[0] == "0":
        return f"zéro {number_words(digits[1:])}"
    n = int(digits)
    if n >= 1_000_000:
        return " ".join(UNITS[int(d)] for d in digits)
    return _words(n)


def _words(n: int) -> str:
    if n < 20:
        return UNITS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        if tens in (7, 9):
            return f"{TENS[tens]}-{UNITS[10 + unit]}"
        if unit == 0:
            return TENS[tens]
        return f"{TENS[tens]}-{'et-un' if unit == 1 and tens < 8 else UNITS[unit]}"
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = "cent" if hundreds == 1 else f"{UNITS[hundreds]} cent"
        return f"{head} {_words(rest)}" if rest else head
    thousands, rest = divmod(n, 1000)
    head = "mille" if thousands == 1 else f"{_words(thousands)} mille"
    return f"{head} {_words(rest)}" if rest else head


def question_seconds(flow: Flow, render: Callable[[Line], str]) -> Mapping[str, float]:
    """What asking each criterion costs, in seconds: its question, then the short key reminder."""
    reminder = seconds(render(line(REMINDER)))
    return {c.id: seconds(render(line(c.prompt))) + reminder for c in flow.criteria}
