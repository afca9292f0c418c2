"""The spoken catalogue: every sentence from `prompts/<lang>/*.yaml`, checked at start-up."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.engine.reply import Line, Param, PhoneNumber
from ivr.errors import ContentError

VOCABULARY_FILE = "understand.yaml"
# Number words understood in a spoken postcode, by value (ivr/places/heard.py).
NUMBER_WORDS_FILE = "understand-numbers.yaml"
LIST_KEYS = ("list.separator", "list.last")
# The most words one spoken prompt may have: older callers keep short sentences best (issue 8).
MAX_WORDS = 25
# Prompts that are written (the SMS), not spoken: the word limit does not apply.
WRITTEN = ("sms.message.", "places.sms.")
# Words for 0 to 99, to speak phone numbers in pairs of digits.
NUMBER_KEYS = tuple(f"number.{n}" for n in range(100))


@dataclass(frozen=True)
class Catalog:
    """Prompt texts by dotted key, and the words understood for each intent."""

    texts: Mapping[str, str]
    sources: Mapping[str, str]
    vocabulary: Mapping[str, tuple[str, ...]]
    number_words: Mapping[str, tuple[str, ...]]

    def render(self, item: Line) -> str:
        """The sentence a Line stands for, placeholders filled in."""
        values = {name: self._value(param) for name, param in item.params}
        return self.texts[item.key].format(**values)

    def _value(self, param: Param) -> str:
        if isinstance(param, Line):
            return self.render(param)
        if isinstance(param, PhoneNumber):
            return self.texts["list.separator"].join(self._pair(pair) for pair in param.pairs())
        if isinstance(param, tuple):
            words = [self.render(p) for p in param]
            if len(words) < 2:
                return "".join(words)
            head = self.texts["list.separator"].join(words[:-1])
            return head + self.texts["list.last"] + words[-1]
        return str(param)

    def _pair(self, pair: str) -> str:
        # « 08 » is said « zéro huit »: a leading zero is its own word.
        if len(pair) == 2 and pair[0] == "0":
            return f"{self.texts['number.0']} {self.texts['number.' + pair[1]]}"
        return self.texts[f"number.{int(pair)}"]

    def require(self, keys: Mapping[str, frozenset[str]], origin: str) -> None:
        """Fail unless every key exists and uses only the placeholders it is given."""
        for key, allowed in keys.items():
            if key not in self.texts:
                raise ContentError(origin, key, "a prompt with this key in prompts/ (none found)")
            used = placeholders(self.texts[key])
            extra = used - allowed
            if extra:
                names = ", ".join(sorted(extra))
                can = ", ".join(sorted(allowed)) or "none"
                raise ContentError(
                    self.sources[key], key, f"placeholders among {{{can}}}, found {{{names}}}"
                )


def words(text: str) -> int:
    """Words as a listener counts them: « l'identité » is one, « 36 46 » two, a {placeholder} one."""
    return len(re.findall(r"[\w'’-]+", text))


def placeholders(text: str) -> set[str]:
    """The {names} a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def load_catalog(folder: str | Path) -> Catalog:
    """Read every prompt file of one language folder; raise ContentError naming what is wrong."""
    folder = Path(folder)
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ContentError(folder, "folder", "at least one *.yaml prompt file")
    texts: dict[str, str] = {}
    sources: dict[str, str] = {}
    vocabulary: dict[str, tuple[str, ...]] = {}
    number_words: dict[str, tuple[str, ...]] = {}
    for path in files:
        data = _read(path)
        if path.name == VOCABULARY_FILE:
            vocabulary = _words(path, data)
            continue
        if path.name == NUMBER_WORDS_FILE:
            number_words = _words(path, data)
            continue
        for key, text in _flatten(path, data, ""):
            if key in texts:
                raise ContentError(path, key, f"a key not already defined in {sources[key]}")
            try:
                placeholders(text)
            except ValueError as exc:
                raise ContentError(path, key, f"a template with balanced braces ({exc})") from exc
            texts[key] = text
            sources[key] = str(path)
    for key, text in texts.items():
        if not key.startswith(WRITTEN) and words(text) > MAX_WORDS:
            expected = f"at most {MAX_WORDS} words a spoken prompt (has {words(text)})"
            raise ContentError(sources[key], key, expected)
    catalog = Catalog(texts, sources, vocabulary, number_words)
    catalog.require({key: frozenset() for key in (*LIST_KEYS, *NUMBER_KEYS)}, str(folder))
    return catalog


def _read(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ContentError(path, "file", "UTF-8 text") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        raise ContentError(path, where, f"valid YAML ({getattr(exc, 'problem', exc)})") from exc


def _flatten(path: Path, data: object, prefix: str) -> Iterable[tuple[str, str]]:
    if not isinstance(data, dict):
        raise ContentError(path, prefix or "file", "a mapping of keys to sentences")
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(path, value, full + ".")
        elif isinstance(value, str) and value.strip():
            # Folded YAML leaves newlines and indentation; list joiners keep their edge spaces.
            yield full, re.sub(r"\s+", " ", value.rstrip("\n"))
        else:
            raise ContentError(path, full, "a non-empty sentence (quote it if it reads as yes/no)")


def _words(path: Path, data: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(data, dict):
        raise ContentError(path, "file", "a mapping of intents to lists of words")
    words: dict[str, tuple[str, ...]] = {}
    for intent, value in data.items():
        if isinstance(intent, bool):
            raise ContentError(path, str(intent), 'an intent name; quote "yes" and "no" as keys')
        if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
            raise ContentError(path, str(intent), "a list of non-empty phrases (quote oui/non)")
        words[str(intent)] = tuple(value)
    return words
