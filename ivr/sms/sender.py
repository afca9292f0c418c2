"""Who sends the SMS: Twilio's REST API, or a local fake that prints it for `ivr call`."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from enum import StrEnum
from typing import Protocol, TextIO

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ivr.config import Settings
from ivr.sms.segments import measure

log = logging.getLogger("ivr.sms")

# Twilio waits 15 s for our webhook; the SMS must leave (or fail) well within that.
TIMEOUT = 5.0


class Attempt(StrEnum):
    """What one try to send came to, as far as the line can tell."""

    SENT = "sent"  # Twilio accepted it
    REFUSED = "refused"  # Twilio refused it: trying again would be refused again
    RETRY = "retry"  # it did not reach Twilio, or Twilio asked to come back later: it did not leave
    UNKNOWN = "unknown"  # no clear answer (a timeout, a 2xx that is not JSON): it may have left


# HTTP statuses of Twilio's REST API after which the message did not leave and may be tried again.
TRY_AGAIN = frozenset({429, 500, 502, 503, 504})


class Sender(Protocol):
    def send(self, to: str, body: str, ref: str) -> bool:
        """Send `body` to `to`; True when accepted. `ref` names the call in logs, never the number."""


class TwilioSender:
    """Sends through Twilio's Messages API, from SMS_FROM or a messaging service."""

    def __init__(self, settings: Settings, timeout: float = TIMEOUT) -> None:
        self.client = Client(
            settings.account_sid, settings.auth_token, http_client=TwilioHttpClient(timeout=timeout)
        )
        # A messaging service picks the sender itself; From would override its pool.
        if settings.messaging_service_sid:
            self.origin = {"messaging_service_sid": settings.messaging_service_sid}
        else:
            self.origin = {"from_": settings.sms_from}
        # Failures by kind since this worker started, so a log line tells a one-off from a pattern.
        self.failures: Counter[str] = Counter()
        self._lock = threading.Lock()

    def send(self, to: str, body: str, ref: str) -> bool:
        return self.attempt(to, body, ref) is Attempt.SENT

    def attempt(self, to: str, body: str, ref: str) -> Attempt:
        """One try: what became of it. Every failure is caught, counted and logged without the number."""
        try:
            message = self.client.messages.create(to=to, body=body, **self.origin)
        except (TwilioRestException, TwilioServiceException) as error:
            # The exception's text quotes the number: log only Twilio's code and the HTTP status.
            self._failed(ref, f"refused by Twilio (error {error.code}, HTTP {error.status})",
                         f"twilio-{error.code}")
            return Attempt.RETRY if error.status in TRY_AGAIN else Attempt.REFUSED
        except requests.exceptions.ConnectTimeout:
            # No connection was made: the message did not leave.
            self._failed(ref, "Twilio could not be reached", "network")
            return Attempt.RETRY
        except requests.exceptions.Timeout:
            self._failed(ref, f"Twilio did not answer within {TIMEOUT:.0f} s", "timeout")
            return Attempt.UNKNOWN
        except (requests.exceptions.RequestException, TwilioException) as error:
            # A connection dropped midway may have delivered the request: not tried again.
            self._failed(ref, type(error).__name__, "network")
            return Attempt.UNKNOWN
        except ValueError:
            # A 2xx whose body is not JSON (a proxy's page, a truncated answer): maybe sent, not confirmed.
            self._failed(ref, "Twilio's answer was not JSON, the message is not confirmed", "not-json")
            return Attempt.UNKNOWN
        log.info("call %s: SMS accepted by Twilio (%s, %d segments)", ref, message.status,
                 measure(body).segments)
        return Attempt.SENT

    def _failed(self, ref: str, why: str, kind: str) -> None:
        with self._lock:
            self.failures[kind] += 1
            count = self.failures[kind]
        log.warning("call %s: SMS not sent: %s (%s failure %d since start)", ref, why, kind, count)


class PrintSender:
    """A local fake for the terminal: prints the message instead of sending it."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def send(self, to: str, body: str, ref: str) -> bool:
        length = measure(body)
        print(f"  (SMS not sent: local fake; {length.segments} SMS, {length.units} "
              f"{length.encoding} characters)", file=self.out)
        for text in body.splitlines():
            print(f"  sms| {text}", file=self.out)
        return True
