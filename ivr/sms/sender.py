"""Who sends the SMS: Twilio's REST API, or a local fake that prints it for `ivr call`."""

from __future__ import annotations

import logging
import threading
from collections import Counter
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
        try:
            message = self.client.messages.create(to=to, body=body, **self.origin)
        except (TwilioRestException, TwilioServiceException) as error:
            # The exception's text quotes the number: log only Twilio's code and the HTTP status.
            return self._failed(ref, f"refused by Twilio (error {error.code}, HTTP {error.status})",
                                f"twilio-{error.code}")
        except requests.exceptions.Timeout:
            return self._failed(ref, f"Twilio did not answer within {TIMEOUT:.0f} s", "timeout")
        except (requests.exceptions.RequestException, TwilioException) as error:
            return self._failed(ref, type(error).__name__, "network")
        except ValueError:
            # A 2xx whose body is not JSON (a proxy's page, a truncated answer): maybe sent, not confirmed.
            return self._failed(ref, "Twilio's answer was not JSON, the message is not confirmed", "not-json")
        log.info("call %s: SMS accepted by Twilio (%s, %d segments)", ref, message.status,
                 measure(body).segments)
        return True

    def _failed(self, ref: str, why: str, kind: str) -> bool:
        with self._lock:
            self.failures[kind] += 1
            count = self.failures[kind]
        log.warning("call %s: SMS not sent: %s (%s failure %d since start)", ref, why, kind, count)
        return False


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
