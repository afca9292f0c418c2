"""The places feature as the application uses it: data, number words and prompts, checked together."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ivr.engine.intents import FILLER
from ivr.places.directory import Directory, load_directory
from ivr.places.heard import Entry, Kind, NumberWords, from_keys
from ivr.places.models import Postcode
from ivr.places.say import check_prompts
from ivr.prompts import NUMBER_WORDS_FILE, Catalog


@dataclass(frozen=True)
class Places:
    """Built once at start-up: the directory, and how to read a postcode typed or said."""

    directory: Directory
    words: NumberWords
    polite: tuple[str, ...] = ()

    def entry(self, digits: str | None = None, speech: str | None = None) -> Entry:
        """What the caller gave at the postcode question: keys if any, else words."""
        if digits:
            return from_keys(digits)
        return self.words.entry(speech or "", self.polite)

    def postcode(self, entry: Entry) -> Postcode | None:
        """The first reading of the entry that the data knows, or None."""
        if entry.kind is not Kind.POSTCODE:
            return None
        for code in entry.candidates:
            found = self.directory.postcode(code)
            if found is not None:
                return found
        return None


def load_places(folder: str | Path, catalog: Catalog, prompts_folder: str | Path) -> Places:
    """The places data and its prompts; raise ContentError naming the file, field and expectation."""
    check_prompts(catalog, str(prompts_folder))
    words = NumberWords(catalog.number_words, str(Path(prompts_folder) / NUMBER_WORDS_FILE))
    return Places(load_directory(folder), words, catalog.vocabulary.get(FILLER, ()))
