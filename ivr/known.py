"""Answers a helpline already knows, from the query string of a transfer URL (?nf=1&vitale=non)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from ivr.flow import RESERVED_CODES, Flow

log = logging.getLogger("ivr.call")

VALUES = {"1": True, "oui": True, "0": False, "non": False}
MAX_NAME = 40


def known_answers(flow: Flow, query: Iterable[tuple[str, str]], ref: str) -> tuple[tuple[str, bool], ...]:
    """Each usable answer once, in flow order; anything else is logged (never a number) and ignored."""
    given: dict[str, set[bool]] = {}
    for name, value in _pairs(query):
        if name in RESERVED_CODES:
            continue
        cid = flow.by_code(name)
        if cid is None:
            log.warning("call %s: transfer parameter %s ignored: no such criterion", ref, _shown(name))
        elif value not in VALUES:
            log.warning("call %s: transfer parameter %s ignored: not 1, 0, oui or non", ref, _shown(name))
        else:
            given.setdefault(cid, set()).add(VALUES[value])
    for cid, values in given.items():
        if len(values) > 1:
            log.warning("call %s: transfer parameter %r ignored: given both oui and non",
                        ref, flow.criterion(cid).query_name)
    return tuple((c.id, next(iter(given[c.id]))) for c in flow.criteria if len(given.get(c.id, ())) == 1)


def _pairs(items: Iterable[tuple[str, str]]) -> Iterable[tuple[str, str]]:
    for name, value in items:
        yield name.strip().lower()[:MAX_NAME], value.strip().lower()[:MAX_NAME]


def _shown(name: str) -> str:
    # Only a name made of letters is repeated in the logs: a phone number must never reach them.
    return repr(name) if re.fullmatch(r"[a-z_]{1,40}", name) else "(name not shown)"
