"""Who sends the SMS: Twilio's REST API, or a local fake that prints it for `ivr call`."""

from __future__ import annotations

import logging
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

    def send(self, to: str, body: str, ref: str) -> bool:
        try:
            message = self.client.messages.create(to=to, body=body, **self.origin)
        except (TwilioRestException, TwilioServiceException) as error:
            # The exception's text quotes the number: log only Twilio's code and the HTTP status.
            log.warning("call %s: SMS refused by Twilio (error %s, HTTP %s)", ref, error.code, error.status)
            return False
        except requests.exceptions.Timeout:
            log.warning("call %s: SMS not sent, Twilio did not answer within %.0f s", ref, TIMEOUT)
            return False
        except (requests.exceptions.RequestException, TwilioException) as error:
            log.warning("call %s: SMS not sent (%s)", ref, type(error).__name__)
            return False
        log.info("call %s: SMS accepted by Twilio (%s, %d segments)", ref, message.status,
                 measure(body).segments)
        return True


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
