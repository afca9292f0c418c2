"""A journal event, and its vocabulary taken from the engine's own types.

Steps are the engine's phases (`Phase`) and the flow's question ids, what the caller did is the
engine's `Intent`, what the line answered is the kind of the engine's `Reply`: a new phase, intent
or reply kind is journaled without a change here. Only the outcomes are the journal's own words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import NamedTuple, get_args

from ivr.engine.intents import Intent
from ivr.engine.reply import Listen, Reply
from ivr.engine.rules import infer, judge
from ivr.engine.state import CallState, Phase
from ivr.flow import Flow


class Webhook(StrEnum):
    """Which request of Twilio's the event records."""

    INCOMING = "incoming"
    TRANSFERRED = "transferred"
    STEP = "step"
    DIAL = "dial"
    STATUS = "status"
    FALLBACK = "fallback"


class Outcome(StrEnum):
    """What an event settles about its call; a call's outcome is the first of these it reached."""

    ADVISOR_REACHED = "advisor_reached"
    ELIGIBLE = "eligible"
    NONE = "none"
    PREREQUISITE = "prerequisite"
    TOO_MANY_TRIES = "too_many_tries"
    ADVISOR_MISSED = "advisor_missed"
    FALLBACK = "fallback"
    # Never stored: a call whose events settle nothing hung up before the result.
    HUNG_UP = "hung_up"
    # Stored, but about the SMS, not the call's outcome.
    SMS_SENT = "sms_sent"
    SMS_FAILED = "sms_failed"
    SMS_CAPPED = "sms_capped"


# A call's outcome, in order of precedence (an advisor reached beats a result heard before).
SMS_OUTCOMES = (Outcome.SMS_SENT, Outcome.SMS_FAILED, Outcome.SMS_CAPPED)
CALL_OUTCOMES = tuple(o for o in Outcome if o not in SMS_OUTCOMES)
STARTS = (Webhook.INCOMING, Webhook.TRANSFERRED)
PHASES = tuple(phase.name.lower() for phase in Phase)
ACTIONS = tuple(intent.value for intent in Intent)
REPLIES = tuple(kind.__name__.lower() for kind in get_args(Reply))
RESULT = Phase.RESULT.name.lower()
ASK = Phase.ASK.name.lower()


class Event(NamedTuple):
    """One row of the journal; a tuple, cheap to build on the request path."""

    at: datetime
    call: str
    flow: str
    version: int
    webhook: str
    phase: str | None = None
    question: str | None = None
    action: str | None = None
    reply: str | None = None
    next_phase: str | None = None
    next_question: str | None = None
    outcome: str | None = None
    duration: int | None = None


def now() -> datetime:
    """The time of an event: UTC, without a zone, the same in SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


def describe(
    flow: Flow,
    call: str,
    webhook: Webhook,
    before: CallState | None = None,
    action: str | None = None,
    reply: Reply | None = None,
    outcome: Outcome | None = None,
    duration: int | None = None,
) -> Event:
    """The event for one request: where the caller was, what they did, where the line took them."""
    after = getattr(reply, "state", None)
    if outcome is None and reply is not None:
        outcome = settled(flow, before, reply)
    return Event(
        at=now(),
        call=call,
        flow=flow.id,
        version=flow.version,
        webhook=webhook.value,
        phase=before.phase.name.lower() if before else None,
        question=before.question if before else None,
        action=action,
        reply=type(reply).__name__.lower() if reply is not None else None,
        next_phase=after.phase.name.lower() if after else None,
        next_question=after.question if after else None,
        outcome=outcome.value if outcome else None,
        duration=duration,
    )


def settled(flow: Flow, before: CallState | None, reply: Reply) -> Outcome | None:
    """The outcome a reply settles: a result newly heard, or the call ended after failed tries."""
    state = getattr(reply, "state", None)
    if isinstance(reply, Listen) and state.phase is Phase.RESULT:
        if before is not None and before.phase is Phase.RESULT:
            return None
        verdict = judge(flow, infer(flow, state.answers))
        if verdict.gate_failed is not None:
            return Outcome.PREREQUISITE
        return Outcome.ELIGIBLE if verdict.eligible else Outcome.NONE
    if state is None and before is not None and before.phase is Phase.ASK:
        return Outcome.TOO_MANY_TRIES
    return None
