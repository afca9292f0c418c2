"""Twilio's voice webhooks: a request becomes an intent, the engine's reply becomes TwiML."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, replace

from flask import Blueprint, Response, abort, current_app, request, url_for

from ivr.engine import summary, token
from ivr.engine.call import Call
from ivr.engine.intents import Intent, Understanding, from_digits
from ivr.engine.reply import Reply, Text
from ivr.engine.state import CallState, Phase
from ivr.errors import TokenError
from ivr.sms.message import compose, french_mobile
from ivr.sms.sender import Sender
from ivr.web.documents import Documents
from ivr.web.known import known_answers
from ivr.web.security import SignatureCheck
from ivr.web.twiml import Links, Renderer

log = logging.getLogger("ivr.call")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
voice = Blueprint("voice", __name__, url_prefix="/voice")

# Twilio sends one key per Gather here; anything longer is noise, not an answer.
MAX_FIELD = 200
# Twilio's call statuses, the only words of a status callback we repeat in the logs.
CALL_STATUSES = frozenset(
    {"queued", "initiated", "ringing", "in-progress", "answered", "completed", "busy", "failed", "no-answer",
     "canceled"}
)
# DialCallStatus values meaning the advisor talked with the caller.
CONNECTED = frozenset({"completed", "answered"})


@dataclass(frozen=True)
class Service:
    """What the webhooks need, built once by the app factory."""

    call: Call
    renderer: Renderer
    understanding: Understanding
    signature: SignatureCheck | None
    documents: Documents
    sms: Sender | None = None
    # TwiML for Twilio's fallback URL, rendered at start-up so it needs nothing that might have failed.
    fallback: str = ""


def service() -> Service:
    return current_app.extensions["ivr"]


def _outbound() -> bool:
    # A call a helpline placed to the person (a call back) has the person in To and our number in From.
    return request.form.get("Direction", "").startswith("outbound")


def _caller() -> str:
    """The person's number."""
    return request.form.get("To" if _outbound() else "From", "")[:MAX_FIELD]


def _ours() -> str:
    """Our number on this call, shown to the advisor as caller ID; empty unless it is E.164."""
    number = request.form.get("From" if _outbound() else "To", "")[:MAX_FIELD]
    # A SIP or client address is no caller ID: Twilio would refuse the <Dial>.
    return number if E164.match(number) else ""


def _call() -> Call:
    """The conversation rules for this caller: the result is offered by SMS to French mobiles."""
    call = service().call
    if service().sms is not None and french_mobile(_caller()):
        return replace(call, sms=True)
    return call


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


def _twiml(reply: Reply, call: Call | None = None) -> Response:
    if isinstance(reply, Text):
        reply = _send_text(reply, call or _call())
    document = service().documents.text(reply, _ours() or None, request.script_root, _links)
    return Response(document, mimetype="text/xml")


def _call_ref() -> str:
    """A short, non-reversible reference to the call for the logs (never a phone number)."""
    sid = request.form.get("CallSid", "")
    return hashlib.sha256(sid.encode()).hexdigest()[:10] if sid else "-"


def _send_text(reply: Text, call: Call) -> Reply:
    """Send the result by SMS now, and tell the caller whether it left."""
    sender = service().sms
    number = _caller()
    sent = False
    if sender is not None and french_mobile(number):
        sent = sender.send(number, compose(service().renderer.catalog, reply.message), _call_ref())
    return call.after_text(reply.state, sent)


def _state() -> CallState | None:
    try:
        return token.decode(service().call.flow, request.args.get("s", ""))
    except TokenError as exc:
        log.warning("call %s: state lost (%s), restarting the questions", _call_ref(), exc)
        return None


def _intent(phase: Phase) -> Intent:
    if request.args.get("silence") == "1":
        return Intent.SILENCE
    form = request.form
    if "Digits" in form:
        return from_digits(form["Digits"].strip()[:MAX_FIELD], phase)
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


@voice.post("/transfer")
def transfer() -> Response:
    call = _call()
    answers = known_answers(call.flow, request.args, _call_ref())
    log.info("call %s: transferred in by a helpline, %d answers known", _call_ref(), len(answers))
    return _twiml(call.transferred(answers, explain=request.args.get("intro") == "1"), call)


@voice.post("/step")
def step() -> Response:
    call = _call()
    state = _state()
    if state is None:
        return _twiml(call.restart(), call)
    intent = _intent(state.phase)
    log.info("call %s: %s at %s %s", _call_ref(), intent.value, state.phase.name, state.question or "")
    return _twiml(call.handle(state, intent), call)


@voice.post("/dial")
def dial() -> Response:
    call = _call()
    state = _state()
    if state is None:
        return _twiml(call.restart(), call)
    status = request.form.get("DialCallStatus", "")[:MAX_FIELD]
    log.info("call %s: advisor call ended (%s)", _call_ref(),
             status if status in CALL_STATUSES else "unknown status")
    return _twiml(call.after_transfer(state, connected=status in CONNECTED), call)


@voice.post("/whisper")
def whisper() -> Response:
    call = service().call
    state = _state()
    lines = summary.whisper(call.flow, state or CallState(Phase.GREET))
    return Response(str(service().renderer.whisper(lines)), mimetype="text/xml")


@voice.post("/fallback")
def fallback() -> Response:
    code = request.form.get("ErrorCode", "")[:10]
    code = code if code.isdigit() else "-"
    log.error("call %s: Twilio used the fallback URL (error %s)", _call_ref(), code)
    return Response(service().fallback, mimetype="text/xml")


@voice.post("/status")
def status() -> Response:
    said = request.form.get("CallStatus", "")[:MAX_FIELD]
    duration = request.form.get("CallDuration", "")[:10]
    log.info("call %s: %s after %s s", _call_ref(), said if said in CALL_STATUSES else "unknown status",
             duration if duration.isdigit() else "-")
    return Response(status=204)
