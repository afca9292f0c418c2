"""Prometheus metrics: calls, outcomes, webhook latency, journal errors, SMS.

Under gunicorn every worker writes its figures to PROMETHEUS_MULTIPROC_DIR (set by
gunicorn.conf.py) and `/metrics` adds them up; in one process, the app's own registry.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

from ivr.journal.events import STARTS, Event, Outcome

# Webhooks answer in milliseconds; Twilio gives up at 15 s.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)
SMS = {Outcome.SMS_SENT.value: "sent", Outcome.SMS_FAILED.value: "refused",
       Outcome.SMS_CAPPED.value: "capped"}


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class Metrics:
    """The app's counters and histogram, registered in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.calls = Counter("ivr_calls", "Calls started, by flow", ["flow"], registry=self.registry)
        self.outcomes = Counter(
            "ivr_outcomes",
            "Events that settle a call's outcome, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.sms = Counter(
            "ivr_sms", "Result SMS, sent, refused or over the daily cap", ["result"], registry=self.registry
        )
        self.sms_delivery = Counter(
            "ivr_sms_delivery",
            "The SMS outbox: tries sent, failed, unconfirmed, past the deadline, retried, expired…",
            ["result"],
            registry=self.registry,
        )
        self.journal_errors = Counter(
            "ivr_journal_errors",
            "Journal trouble: failed writes, and events lost",
            ["kind"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ivr_webhook_seconds",
            "Time to answer a request, by endpoint",
            ["endpoint"],
            buckets=BUCKETS,
            registry=self.registry,
        )

    def count(self, event: Event) -> None:
        """Count what an event tells: a call started, an outcome settled, an SMS sent or refused."""
        if event.webhook in STARTS:
            self.calls.labels(event.flow).inc()
        if event.outcome in SMS:
            self.sms.labels(SMS[event.outcome]).inc()
        elif event.outcome:
            self.outcomes.labels(event.outcome).inc()

    def delivery(self, result: str) -> None:
        self.sms_delivery.labels(result).inc()

    def journal_trouble(self, kind: str, count: int) -> None:
        if count:
            self.journal_errors.labels(kind).inc(count)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes: every worker's figures under gunicorn."""
        if multiprocess_mode():
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
