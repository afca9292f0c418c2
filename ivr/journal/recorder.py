"""From what the assistant did to an event: counted in the metrics, queued for the database."""

from __future__ import annotations

import logging

from ivr.engine.reply import Reply
from ivr.engine.state import CallState
from ivr.flow import Flow
from ivr.journal.events import Outcome, Webhook, describe
from ivr.journal.writer import Writer
from ivr.observe.metrics import Metrics

log = logging.getLogger("ivr.journal")


class Journal:
    """The application's journal: `note` never raises and never waits, whatever the database does."""

    def __init__(self, flow: Flow, metrics: Metrics, writer: Writer | None = None) -> None:
        self.flow = flow
        self.metrics = metrics
        self.writer = writer

    def note(
        self,
        call: str,
        webhook: Webhook,
        before: CallState | None = None,
        action: str | None = None,
        reply: Reply | None = None,
        outcome: Outcome | None = None,
        duration: int | None = None,
    ) -> None:
        """Record one request of a call: where it was, what the caller did, what the line answered."""
        try:
            event = describe(self.flow, call, webhook, before, action, reply, outcome, duration)
            self.metrics.count(event)
            if self.writer is not None:
                self.writer.put(event)
        except Exception:
            # Whatever goes wrong here, the caller must still hear their answer.
            log.exception("journal: event of call %s lost", call)
            self.metrics.journal_trouble("lost", 1)

    def close(self) -> None:
        """Write what is queued, then stop the writer (at shutdown)."""
        if self.writer is not None:
            self.writer.close()
