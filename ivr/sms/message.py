"""The text of the result SMS, who may receive it, and a start-up check of its length."""

from __future__ import annotations

import re

from ivr.engine.reply import Line
from ivr.engine.summary import text_for
from ivr.errors import ContentError
from ivr.flow import Flow
from ivr.prompts import Catalog
from ivr.sms.segments import Length, measure

MAX_SEGMENTS = 3
# French mobile numbers: +33 6 and +33 7, then eight digits.
FRENCH_MOBILE = re.compile(r"^\+33[67][0-9]{8}$")


def french_mobile(number: str) -> bool:
    """Whether a caller's number can receive our SMS."""
    return bool(FRENCH_MOBILE.match(number))


def compose(catalog: Catalog, lines: tuple[Line, ...], extras: tuple[Line, ...] = ()) -> str:
    """The message, one line of text per Line; each extra line added if the SMS stays within
    MAX_SEGMENTS, the most useful first (the least useful are the first dropped)."""
    text = "\n".join(catalog.render(item) for item in lines)
    for extra in extras:
        longer = f"{text}\n{catalog.render(extra)}"
        if measure(longer).segments <= MAX_SEGMENTS:
            text = longer
    return text


def longest(flow: Flow, catalog: Catalog) -> str:
    """The longest message this flow could send: every provider usable (extras only fill what is left)."""
    message, _extras = text_for(flow.providers)
    return compose(catalog, message)


def check_length(flow: Flow, catalog: Catalog, origin: str) -> Length:
    """Refuse prompts whose longest message would take more than MAX_SEGMENTS SMS."""
    length = measure(longest(flow, catalog))
    if length.segments > MAX_SEGMENTS:
        raise ContentError(
            origin,
            "sms",
            f"a result message of at most {MAX_SEGMENTS} SMS; with every provider usable it takes "
            f"{length.segments} ({length.units} {length.encoding} characters)",
        )
    return length
