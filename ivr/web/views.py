"""Twilio's voice webhooks: a request becomes an intent, the engine's reply becomes TwiML."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, request, url_for

from ivr.engine import token
from ivr.engine.call import Call
from ivr.engine.intents import Intent, Understanding, from_digits
from ivr.engine.reply import Reply
from ivr.engine.state import CallState, Phase
from ivr.errors import TokenError
from ivr.web.documents import Documents
from ivr.web.security import SignatureCheck
from ivr.web.twiml import Links, Renderer

log = logging.getLogger("ivr.call")
voice = Blueprint("voice", __name__, url_prefix="/voice")

# Twilio sends one key per Gather here; anything longer is noise, not an answer.
MAX_FIELD = 200


@dataclass(frozen=True)
class Service:
    """What the webhooks need, built once by the app factory."""

    call: Call
    renderer: Renderer
    understanding: Understanding
    signature: SignatureCheck | None
    documents: Documents


def service() -> Service:
    return current_app.extensions["ivr"]


@voice.before_request
def check_signature() -> None:
    check = service().signature
    if check is not None and not check.accepts(request):
        log.warning("refused %s: bad or missing X-Twilio-Signature", request.path)
        abort(403)


def _links() -> Links:
    flow = service().call.flow

    def to(endpoint: str, **extra: str):
        return lambda state: url_for(endpoint, s=token.encode(flow, state), **extra)

    return Links(
        step=to("voice.step"),
        silence=to("voice.step", silence="1"),
        dial=to("voice.dial"),
        whisper=to("voice.whisper"),
    )


def _twiml(reply: Reply) -> Response:
    caller_id = request.form.get("To", "")[:MAX_FIELD] or None
    document = service().documents.text(reply, caller_id, request.script_root, _links)
    return Response(document, mimetype="text/xml")


def _call_ref() -> str:
    """A short, non-reversible reference to the call for the logs (never a phone number)."""
    sid = request.form.get("CallSid", "")
    return hashlib.sha256(sid.encode()).hexdigest()[:10] if sid else "-"


def _state() -> CallState | None:
    try:
        return token.decode(service().call.flow, request.args.get("s", ""))
    except TokenError as exc:
        log.warning("call %s: state lost (%s), restarting the questions", _call_ref(), exc)
        return None


def _intent() -> Intent:
    if request.args.get("silence") == "1":
        return Intent.SILENCE
    form = request.form
    if "Digits" in form:
        return from_digits(form["Digits"].strip()[:MAX_FIELD])
    if "SpeechResult" in form:
        try:
            confidence: float | None = float(form.get("Confidence", ""))
        except ValueError:
            confidence = None
        return service().understanding.intent(form["SpeechResult"][:MAX_FIELD], confidence)
    return Intent.SILENCE


@voice.post("")
def incoming() -> Response:
    log.info("call %s: started", _call_ref())
    return _twiml(service().call.start())


@voice.post("/step")
def step() -> Response:
    call = service().call
    state = _state()
    if state is None:
        return _twiml(call.restart())
    intent = _intent()
    log.info("call %s: %s at %s %s", _call_ref(), intent.value, state.phase.name, state.question or "")
    return _twiml(call.handle(state, intent))


@voice.post("/dial")
def dial() -> Response:
    call = service().call
    state = _state()
    if state is None:
        return _twiml(call.restart())
    status = request.form.get("DialCallStatus", "")[:MAX_FIELD]
    log.info("call %s: advisor call ended (%s)", _call_ref(), status or "no status")
    return _twiml(call.after_transfer(state, connected=status == "completed"))


@voice.post("/whisper")
def whisper() -> Response:
    call = service().call
    state = _state()
    lines = call.whisper(state or CallState(Phase.GREET))
    return Response(str(service().renderer.whisper(lines)), mimetype="text/xml")
