"""The figures the team reads, from the journal: calls, outcomes, the funnel per question.

One query per figure family, grouped in the database; a call's outcome is the first of
`CALL_OUTCOMES` its events reached, so every call has exactly one.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, case, distinct, func, select

from ivr.db.tables import journal_events as ev
from ivr.journal.events import ASK, CALL_OUTCOMES, Outcome, Webhook, now

# Days are the team's days: calls are counted by the date in France.
ZONE = ZoneInfo("Europe/Paris")
SPAN = re.compile(r"^(\d{1,4})([hdw])$")
UNITS = {"h": "hours", "d": "days", "w": "weeks"}
TRANSFER = "transfer"


def parse_span(text: str) -> timedelta:
    """`7d`, `24h`, `2w` as a duration; ValueError for anything else."""
    found = SPAN.match(text.strip())
    if not found or int(found[1]) == 0:
        raise ValueError(f"a duration such as 7d, 24h or 2w, not {text!r}")
    return timedelta(**{UNITS[found[2]]: int(found[1])})


def local_day(moment: datetime) -> date:
    """The date in France of a naive UTC time."""
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZONE).date()


def day_start(day: date) -> datetime:
    """Midnight in France on `day`, as naive UTC."""
    return (
        datetime(day.year, day.month, day.day, tzinfo=ZONE).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    )


@dataclass(frozen=True)
class Question:
    """One question of the funnel: calls that heard it, answered it each way, hung up on it."""

    question: str
    reached: int = 0
    yes: int = 0
    no: int = 0
    unsure: int = 0
    hung_up: int = 0


@dataclass(frozen=True)
class Figures:
    """Everything the dashboard and `ivr report` show, for one period and flow."""

    since: datetime
    until: datetime
    flow: str | None
    flows: tuple[str, ...]
    calls: int
    per_day: tuple[tuple[date, int], ...]
    outcomes: dict[str, int]
    funnel: tuple[Question, ...]
    hung_up_at: dict[str, int]
    advisor_asked: int
    advisor_reached: int
    sms_sent: int
    sms_failed: int
    sms_capped: int
    durations: int
    median_duration: float | None
    versions: tuple[int, ...] = field(default=())

    def share(self, count: int) -> float:
        """`count` as a share of the calls (0 when there were none)."""
        return count / self.calls if self.calls else 0.0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"], data["until"] = self.since.isoformat() + "Z", self.until.isoformat() + "Z"
        data["per_day"] = [{"day": day.isoformat(), "calls": count} for day, count in self.per_day]
        return data


def figures(
    engine: Engine,
    since: datetime,
    until: datetime | None = None,
    flow: str | None = None,
    order: Sequence[str] = (),
) -> Figures:
    """The figures of the calls seen in [since, until), for one flow or all; `order` sorts the funnel."""
    until = until or now()
    where = [ev.c.at >= since, ev.c.at < until]
    if flow:
        where.append(ev.c.flow == flow)
    scope = and_(*where)
    with engine.connect() as connection:
        flows = tuple(connection.scalars(select(ev.c.flow).distinct().order_by(ev.c.flow)))
        versions = tuple(
            connection.scalars(select(ev.c.version).where(scope).distinct().order_by(ev.c.version))
        )
        calls = connection.execute(
            select(
                ev.c.call,
                func.min(ev.c.at),
                func.max(ev.c.duration),
                func.sum(case((ev.c.reply == TRANSFER, 1), else_=0)),
            )
            .where(scope)
            .group_by(ev.c.call)
        ).all()
        settled = connection.execute(
            select(ev.c.call, ev.c.outcome)
            .where(scope, ev.c.outcome.is_not(None))
            .group_by(ev.c.call, ev.c.outcome)
        ).all()
        last = _last_steps(connection, scope)
        reached = connection.execute(
            select(ev.c.next_question, func.count(distinct(ev.c.call)))
            .where(scope, ev.c.reply == "listen", ev.c.next_phase == ASK)
            .group_by(ev.c.next_question)
        ).all()
        answers = connection.execute(
            select(ev.c.question, ev.c.action, func.count(distinct(ev.c.call)))
            .where(scope, ev.c.webhook == Webhook.STEP.value, ev.c.phase == ASK)
            .group_by(ev.c.question, ev.c.action)
        ).all()

    reached_by_call: dict[str, set[str]] = defaultdict(set)
    for call, outcome in settled:
        reached_by_call[call].add(outcome)
    outcome_of = {call: _outcome(reached_by_call.get(call, set())) for call, *_ in calls}
    outcomes = Counter(outcome_of.values())
    sms = Counter(o for found in reached_by_call.values() for o in found if o.startswith("sms_"))

    # Where the calls that never reached an outcome were when they hung up.
    hung_up_at: Counter[str] = Counter()
    for call, step in last.items():
        if outcome_of.get(call) == Outcome.HUNG_UP:
            hung_up_at[step] += 1

    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for question, count in reached:
        counts[question]["reached"] = count
    for question, action, count in answers:
        counts[question][action] = count
    known = [q for q in order if q in counts] + sorted(q for q in counts if q not in order)
    funnel = tuple(
        Question(
            q,
            counts[q].get("reached", 0),
            counts[q].get("yes", 0),
            counts[q].get("no", 0),
            counts[q].get("unsure", 0),
            hung_up_at.get(f"{ASK}:{q}", 0),
        )
        for q in known
    )

    days = Counter(local_day(started) for _, started, _, _ in calls)
    first, final = local_day(since), local_day(until - timedelta(microseconds=1))
    per_day = tuple(
        (first + timedelta(days=n), days.get(first + timedelta(days=n), 0))
        for n in range((final - first).days + 1)
    )
    durations = [d for _, _, d, _ in calls if d is not None]
    return Figures(
        since=since,
        until=until,
        flow=flow,
        flows=flows,
        calls=len(calls),
        per_day=per_day,
        outcomes={o.value: outcomes.get(o.value, 0) for o in CALL_OUTCOMES},
        funnel=funnel,
        hung_up_at=dict(hung_up_at),
        advisor_asked=sum(1 for *_, transfers in calls if transfers),
        # First in precedence: every call that reached the advisor has that outcome.
        advisor_reached=outcomes.get(Outcome.ADVISOR_REACHED.value, 0),
        sms_sent=sms.get(Outcome.SMS_SENT.value, 0),
        sms_failed=sms.get(Outcome.SMS_FAILED.value, 0),
        sms_capped=sms.get(Outcome.SMS_CAPPED.value, 0),
        durations=len(durations),
        median_duration=statistics.median(durations) if durations else None,
        versions=versions,
    )


def _outcome(found: set[str]) -> str:
    return next((o.value for o in CALL_OUTCOMES if o.value in found), Outcome.HUNG_UP.value)


def _last_steps(connection, scope) -> dict[str, str]:
    """Each call's last step: `ask:<question>`, `greet`, `result` or `transfer`."""
    rank = func.row_number().over(partition_by=ev.c.call, order_by=(ev.c.at.desc(), ev.c.id.desc()))
    steps = (
        select(ev.c.call, ev.c.reply, ev.c.next_phase, ev.c.next_question, rank.label("rank"))
        .where(scope, ev.c.next_phase.is_not(None))
        .subquery()
    )
    rows = connection.execute(
        select(steps.c.call, steps.c.reply, steps.c.next_phase, steps.c.next_question).where(
            steps.c.rank == 1
        )
    ).all()
    return {call: _step(reply, phase, question) for call, reply, phase, question in rows}


def _step(reply: str, phase: str, question: str | None) -> str:
    if reply == TRANSFER:
        return TRANSFER
    if phase == ASK and question:
        return f"{ASK}:{question}"
    return phase
