"""Where the application drops a call's SMS: what it tells the caller back is the SMS's fate."""

from __future__ import annotations

from typing import Protocol

from ivr.engine.reply import SmsFate
from ivr.sms.sender import Sender


class Postbox(Protocol):
    def enqueue(self, call: str, number: str, body: str) -> SmsFate:
        """Take `body` for `number`, once per call (`call` is its keyed reference)."""

    def running(self) -> None:
        """Make sure whatever delivers the messages runs in this process."""


class SendNow:
    """Sends at once, inside the request, and tells how it went: the terminal's local fake."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender

    def enqueue(self, call: str, number: str, body: str) -> SmsFate:
        return SmsFate.ON_ITS_WAY if self.sender.send(number, body, call) else SmsFate.FAILED

    def running(self) -> None:
        """Nothing runs apart: the message leaves in `enqueue`."""
