"""Rendered TwiML kept by reply: a step of a flow always reads the same, so build it once per worker.

The state token differs in every call (it is bound to the call and freshly encrypted), so a kept
document holds a stand-in where the token goes, replaced by each request's own token.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import assert_never

from ivr.engine.reply import Hangup, Listen, Reply, Text, Transfer
from ivr.engine.state import CallState
from ivr.web.twiml import Links, Renderer

# The seed flow can produce about 3 100 distinct documents (6 300 with an advisor line), averaging
# under 1 kB, and callers reach far fewer: a few MB per worker hold all the common ones.
CACHE_SIZE = 4096
# Where a document's token goes: URL-safe, left alone by XML escaping, never in a spoken sentence.
STATE = "_state_token_"


class Documents:
    """TwiML text by reply, least recently used evicted: building and serialising the tree is the
    costliest part of a step, and every caller hears the same greeting and first questions."""

    def __init__(self, renderer: Renderer, size: int = CACHE_SIZE) -> None:
        self.renderer = renderer
        self.size = size
        self._store: OrderedDict[tuple[Reply, str | None, str], str] = OrderedDict()
        # The links hold a stand-in for the token, so they are the same for every reply under a root.
        self._links: dict[str, Links] = {}
        self._lock = threading.Lock()

    def text(self, reply: Reply, caller_id: str | None, root: str, links: Callable[[], Links],
             token: Callable[[CallState], str]) -> str:
        """The document for `reply`, its links carrying `token(state)`; `root`, the script root, is in
        the key as the links hold it. `links` gives the links with STATE where the token goes."""
        template = self._template(reply, caller_id, root, links)
        match reply:
            case Listen() | Transfer():
                return template.replace(STATE, token(reply.state))
            case Hangup():
                return template
            case Text():
                raise TypeError("an SMS reply is carried out by the assistant, never rendered")
            case _:
                assert_never(reply)

    def _template(self, reply: Reply, caller_id: str | None, root: str, links: Callable[[], Links]) -> str:
        key = (reply, caller_id, root)
        with self._lock:
            found = self._store.get(key)
            if found is not None:
                self._store.move_to_end(key)
                return found
        if root not in self._links:
            self._links[root] = links()
        found = str(self.renderer.render(reply, self._links[root], caller_id))
        with self._lock:
            self._store[key] = found
            if len(self._store) > self.size:
                self._store.popitem(last=False)
        return found
