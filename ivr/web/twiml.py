"""Turn the engine's replies into TwiML trees with twilio's builder."""

from __future__ import annotations

from dataclasses import dataclass

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.config import Settings
from ivr.engine.intents import FILLER
from ivr.engine.reply import Hangup, Line, Listen, Reply, Transfer, line
from ivr.prompts import Catalog

LANGUAGE = "fr-FR"
# Where to get help in person, said when the server failed: it needs no call state.
OFFLINE = (line("help.france_services"), line("help.mairie"))
# Seconds the advisor's phone rings before the caller is told nobody answered.
DIAL_TIMEOUT = 20


@dataclass(frozen=True)
class Links:
    """URLs the TwiML points back to; each carries the reply's state as a token, or a stand-in for it."""

    step: str
    silence: str
    dial: str
    whisper: str


class Renderer:
    """Speaks lines in the configured voice and lays out Gather, Redirect, Dial and Hangup."""

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self.catalog = catalog
        self.voice = settings.voice
        self.rate = settings.speech_rate
        self.timeout = settings.input_timeout
        self.helpline = settings.helpline_number
        self.time_limit = settings.dial_time_limit
        # The few commonest phrases of each intent: hints help recognition, a long list only weighs.
        self.hints = ", ".join(
            phrase
            for intent, phrases in catalog.vocabulary.items()
            if intent != FILLER
            for phrase in phrases[:3]
        )

    def say(self, parent: VoiceResponse | Gather, lines: tuple[Line, ...]) -> None:
        """Add one <Say> holding these lines."""
        text = " ".join(self.catalog.render(item) for item in lines)
        if not text:
            return
        if self.rate:
            parent.say(voice=self.voice, language=LANGUAGE).prosody(text, rate=self.rate)
        else:
            parent.say(text, voice=self.voice, language=LANGUAGE)

    def render(self, reply: Reply, links: Links | None, caller_id: str | None = None) -> VoiceResponse:
        """The TwiML document for one reply."""
        response = VoiceResponse()
        if isinstance(reply, Listen):
            gather = response.gather(
                input="dtmf speech",
                language=LANGUAGE,
                num_digits=reply.digits,
                # One key answers a question; a postcode may end early with # (ISO/IEC 13714).
                finish_on_key="#" if reply.digits > 1 else "",
                # Each failed try buys more time: slower callers get it without asking (Section 508).
                timeout=reply.patience or self.timeout * (1 + reply.state.tries),
                speech_timeout="auto",
                hints=self.hints,
                action=links.step,
                method="POST",
            )
            self.say(gather, reply.lines)
            if reply.closing is None:
                response.redirect(links.silence, method="POST")
            else:
                self.say(response, reply.closing)
                response.hangup()
        elif isinstance(reply, Transfer):
            self.say(response, reply.lines)
            dial = response.dial(
                action=links.dial,
                method="POST",
                caller_id=caller_id,
                time_limit=self.time_limit,
                timeout=DIAL_TIMEOUT,
            )
            dial.number(self.helpline, url=links.whisper, method="POST")
        elif isinstance(reply, Hangup):
            self.say(response, reply.lines)
            response.hangup()
        return response

    def fallback(self) -> str:
        """TwiML for when our server failed: apologise, try the advisor, else in-person help; hang up."""
        response = VoiceResponse()
        if self.helpline:
            self.say(response, (line("fallback.apology"), line("transfer.intro")))
            # No action URL: it would point at the server that just failed. If nobody answers,
            # Twilio goes on with the help below.
            response.dial(self.helpline, time_limit=self.time_limit, timeout=DIAL_TIMEOUT)
            self.say(response, (*OFFLINE, line("fallback.later"), line("goodbye")))
        else:
            self.say(response, (line("error.technical"), *OFFLINE, line("goodbye")))
        response.hangup()
        return str(response)

    def whisper(self, lines: tuple[Line, ...]) -> VoiceResponse:
        """Words for the advisor's ear; the document ends without hanging up so the call connects."""
        response = VoiceResponse()
        self.say(response, lines)
        return response
