"""Twilio's voice webhooks: each view turns a request into the assistant's arguments, and its
reply into TwiML."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, g, request, url_for

from ivr.assistant import Assistant, Heard, Party
from ivr.config import E164
from ivr.engine.reply import Reply
from ivr.web.documents import STATE, Documents
from ivr.web.security import SignatureCheck
from ivr.web.twiml import Links, Renderer

log = logging.getLogger("ivr.call")
voice = Blueprint("voice", __name__, url_prefix="/voice")

# Twilio sends one key per Gather here; anything longer is noise, not an answer.
MAX_FIELD = 200


@dataclass(frozen=True)
class Service:
    """What the webhooks need, built once by the app factory."""

    assistant: Assistant
    renderer: Renderer
    signature: SignatureCheck | None
    documents: Documents
    # TwiML for Twilio's fallback URL, rendered at start-up so it needs nothing that might have failed.
    fallback: str = ""

    @property
    def call(self):
        """The conversation rules (the flow is `service.call.flow`)."""
        return self.assistant.call


def service() -> Service:
    return current_app.extensions["ivr"]


def _field(name: str, size: int = MAX_FIELD) -> str:
    return request.form.get(name, "")[:size]


def _party() -> Party:
    """The call's id, the person's number and ours, whichever way the call was placed."""
    # A call a helpline placed to the person (a call back) has the person in To and our number in From.
    outbound = _field("Direction").startswith("outbound")
    ours = _field("From" if outbound else "To")
    # A SIP or client address is no caller ID: Twilio would refuse the <Dial>.
    party = service().assistant.party(
        _field("CallSid"), _field("To" if outbound else "From"), ours if E164.fullmatch(ours) else ""
    )
    # The request's log line names the call too.
    g.call_ref = party.ref
    return party


def _heard() -> Heard:
    form = request.form
    return Heard(
        digits=form["Digits"][:MAX_FIELD] if "Digits" in form else None,
        speech=form["SpeechResult"][:MAX_FIELD] if "SpeechResult" in form else None,
        confidence=form.get("Confidence", "")[:MAX_FIELD],
        silence=request.args.get("silence") == "1",
    )


@voice.before_request
def check_signature() -> None:
    check = service().signature
    if check is not None and not check.accepts(request):
        log.warning("refused %s: bad or missing X-Twilio-Signature", request.path)
        abort(403)


def _links() -> Links:
    return Links(
        step=url_for("voice.step", s=STATE),
        silence=url_for("voice.step", s=STATE, silence="1"),
        dial=url_for("voice.dial", s=STATE),
        whisper=url_for("voice.whisper", s=STATE),
    )


def document(reply: Reply, party: Party) -> str:
    """The TwiML text of a reply for this call, its links carrying the call's own state token."""
    assistant = service().assistant
    return service().documents.text(
        reply, party.ours or None, request.script_root, _links, lambda state: assistant.token(state, party)
    )


def _twiml(reply: Reply, party: Party) -> Response:
    return Response(document(reply, party), mimetype="text/xml")


def _token() -> str:
    return request.args.get("s", "")


@voice.post("")
def incoming() -> Response:
    party = _party()
    return _twiml(service().assistant.incoming(party), party)


@voice.post("/transfer")
def transfer() -> Response:
    party = _party()
    query = request.args.items(multi=True)
    reply = service().assistant.transferred(party, query, explain=request.args.get("intro") == "1",
                                            postcode=request.args.get("cp", ""))
    return _twiml(reply, party)


@voice.post("/step")
def step() -> Response:
    party = _party()
    return _twiml(service().assistant.step(party, _token(), _heard()), party)


@voice.post("/dial")
def dial() -> Response:
    party = _party()
    return _twiml(service().assistant.dial_ended(party, _token(), _field("DialCallStatus")), party)


@voice.post("/whisper")
def whisper() -> Response:
    # Twilio fetches the whisper on the advisor's leg: the caller's call is its parent.
    lines = service().assistant.whisper(_field("ParentCallSid"), _token())
    return Response(str(service().renderer.whisper(lines)), mimetype="text/xml")


@voice.post("/fallback")
def fallback() -> Response:
    service().assistant.fallback_used(_party(), _field("ErrorCode", 10))
    return Response(service().fallback, mimetype="text/xml")


@voice.post("/status")
def status() -> Response:
    service().assistant.status(_party(), _field("CallStatus"), _field("CallDuration", 10))
    return Response(status=204)
