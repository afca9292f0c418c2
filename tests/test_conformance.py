"""Every TwiML document the app can produce is one Twilio accepts for a voice call (no 12100 or
12200 error): walk every reachable step of every flow, with and without an advisor line."""

from __future__ import annotations

import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable

import pytest
from conftest import FLOWS, signature

from ivr.app import create_app
from ivr.assistant import Heard, Party
from ivr.engine.reply import Reply
from ivr.web.views import document as rendered

# From Twilio's TwiML voice reference (twilio.com/docs/voice/twiml/<verb>): the verbs a <Response>
# may hold, what each element may nest, and the attributes each documents, camelCase as Twilio
# spells them (a builder typo such as numdigits is silently ignored by Twilio).
VOICE_VERBS = {
    "Connect", "Dial", "Enqueue", "Gather", "Hangup", "Leave", "Pause", "Pay", "Play", "Record",
    "Redirect", "Refer", "Reject", "Say", "Start", "Stop",
}
SSML = {
    "break", "emphasis", "lang", "p", "phoneme", "prosody", "s", "say-as", "sub", "w",
    "amazon:domain", "amazon:effect",
}
CHILDREN: dict[str, set[str]] = {
    "Response": VOICE_VERBS,
    "Gather": {"Say", "Play", "Pause"},
    "Say": SSML,
    "prosody": SSML,
    "Dial": {"Number", "Client", "Conference", "Queue", "Sip", "Sim", "Application", "WhatsApp"},
    "Number": set(),
    "Redirect": set(),
    "Hangup": set(),
    "Pause": set(),
    "Play": set(),
}
ATTRIBUTES: dict[str, set[str]] = {
    "Response": set(),
    "Say": {"voice", "language", "loop"},
    "Play": {"loop", "digits"},
    "Pause": {"length"},
    "Gather": {
        "action", "actionOnEmptyResult", "enhanced", "finishOnKey", "hints", "input", "language",
        "method", "numDigits", "partialResultCallback", "partialResultCallbackMethod",
        "profanityFilter", "speechModel", "speechTimeout", "timeout",
    },
    "Redirect": {"method"},
    "Hangup": set(),
    "Dial": {
        "action", "answerOnBridge", "callerId", "callReason", "hangupOnStar", "method", "record",
        "recordingStatusCallback", "recordingStatusCallbackMethod", "recordingStatusCallbackEvent",
        "recordingTrack", "referUrl", "referMethod", "ringTone", "sequential", "timeLimit", "timeout",
        "trim",
    },
    "Number": {
        "sendDigits", "url", "method", "byoc", "statusCallbackEvent", "statusCallback",
        "statusCallbackMethod", "machineDetection", "machineDetectionTimeout",
        "machineDetectionSpeechThreshold", "machineDetectionSpeechEndThreshold",
        "machineDetectionSilenceTimeout", "amdStatusCallback", "amdStatusCallbackMethod",
    },
    "prosody": {"volume", "rate", "pitch"},
    "break": {"strength", "time"},
}
# Elements whose text Twilio reads: a URL, a number, or words; all must be non-empty.
NEEDS_TEXT = {"Say", "Redirect", "Number"}
# Nothing after these runs: a verb placed there would never be heard.
LAST = {"Redirect", "Hangup"}

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
FRENCH_VOICES = re.compile(
    r"^(man|woman|alice|Polly\.(Lea|Celine|Mathieu|Remi)(-Neural|-Generative)?|Google\.fr-FR-[\w-]+)$"
)


def positive(value: str) -> bool:
    return value.isdigit() and int(value) > 0


VALUES: dict[tuple[str, str], Callable[[str], bool]] = {
    ("Gather", "input"): lambda v: v in {"dtmf", "speech", "dtmf speech"},
    ("Gather", "language"): lambda v: v == "fr-FR",
    ("Gather", "numDigits"): positive,
    ("Gather", "finishOnKey"): lambda v: re.fullmatch(r"[0-9#*]?", v) is not None,
    ("Gather", "timeout"): positive,
    ("Gather", "speechTimeout"): lambda v: v == "auto" or v.isdigit(),
    ("Gather", "action"): bool,
    # Twilio caps each hint phrase at 100 characters.
    ("Gather", "hints"): lambda v: all(0 < len(p.strip()) <= 100 for p in v.split(",")),
    ("Say", "language"): lambda v: v == "fr-FR",
    ("Say", "voice"): lambda v: FRENCH_VOICES.match(v) is not None,
    ("Say", "loop"): lambda v: v.isdigit(),
    ("prosody", "rate"): lambda v: re.fullmatch(r"\d{2,3}%|x-slow|slow|medium|fast|x-fast", v) is not None,
    ("Dial", "callerId"): lambda v: E164.match(v) is not None,
    ("Dial", "timeLimit"): lambda v: v.isdigit() and 1 <= int(v) <= 14400,
    ("Dial", "timeout"): lambda v: v.isdigit() and 5 <= int(v) <= 600,
    ("Dial", "action"): bool,
    ("Number", "url"): bool,
}
METHODS = {"GET", "POST"}

# What Twilio posts besides the caller's input; To is our line, the Dial's caller id.
FORM = {"CallSid": "CA0123456789abcdef0123456789abcdef", "From": "+33612345678", "To": "+33900000000"}
KEYS = "1234*#09"
ANSWERS = "12"
# Posted where the line awaits a postcode (numDigits 5): known, unknown, back, too short.
POSTCODES = ("23000", "00000", "*", "2300#")


def problems(document: ET.Element) -> list[str]:
    """Everything in a document that Twilio's voice reference does not allow."""
    found = []
    if document.tag != "Response":
        found.append(f"root <{document.tag}>, not <Response>")
    verbs = [child.tag for child in document]
    for tag in LAST & set(verbs):
        if verbs.index(tag) != len(verbs) - 1:
            found.append(f"<{tag}> followed by verbs that never run: {verbs}")
    for element in document.iter():
        tag = element.tag
        if tag not in ATTRIBUTES and tag not in SSML:
            found.append(f"<{tag}> is not a TwiML voice element")
            continue
        for child in element:
            if child.tag not in CHILDREN.get(tag, set()):
                found.append(f"<{child.tag}> inside <{tag}>")
        for name, value in element.attrib.items():
            if name not in ATTRIBUTES.get(tag, set()):
                found.append(f"<{tag}> has attribute {name!r} that Twilio does not document")
            elif name.endswith("ethod") and value not in METHODS:
                found.append(f"<{tag} {name}={value!r}>: GET or POST")
            elif (tag, name) in VALUES and not VALUES[tag, name](value):
                found.append(f"<{tag} {name}={value!r}>: not an allowed value")
        if tag in NEEDS_TEXT and not "".join(element.itertext()).strip():
            found.append(f"<{tag}> without text")
        if tag == "Number" and not E164.match((element.text or "").strip()):
            found.append(f"<Number>{element.text}</Number> is not an E.164 number")
        if tag == "Say" and element.get("language") != "fr-FR":
            found.append("<Say> without language='fr-FR'")
    return found


def walk(app) -> set[str]:
    """Every distinct document reachable from a new call, plus a lost state and the apology for a
    crash. Walked in-process: each reply is asked of the assistant as the webhook would ask it, and
    rendered by the webhooks' own `document` (requests over HTTP took minutes for the same set).

    Every answer path (keys 1 and 2, silences, dial outcomes, whispers) is walked in full. Other
    keys (3, star, hash, 0, an invalid one) are walked from every step of those paths, and further
    only while they lead to replies of a new shape (the same words, whatever the state behind
    them): walked in full, each doubt or detour would multiply the paths."""
    service = app.extensions["ivr"]
    assistant = service.assistant
    party = Party(FORM["CallSid"], FORM["From"], FORM["To"])

    def answers(url: str, tag: str, main: bool, digits: str = "1") -> list[tuple[Reply, bool]]:
        """The replies to what Twilio may post to this URL of a <Gather>, <Redirect> or <Dial>,
        each with whether it is on an answer path."""
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qs(parts.query)
        token = query["s"][0]
        if parts.path == "/voice/step" and tag == "Redirect":
            assert query.get("silence") == ["1"], url
            return [(assistant.step(party, token, Heard(silence=True)), main)]
        if parts.path == "/voice/step" and digits != "1":
            return [(assistant.step(party, token, Heard(digits=key)), False) for key in POSTCODES]
        if parts.path == "/voice/step":
            return [(assistant.step(party, token, Heard(digits=key)), main and key in ANSWERS)
                    for key in KEYS]
        if parts.path == "/voice/dial":
            return [(assistant.dial_ended(party, token, status), main)
                    for status in ("completed", "no-answer")]
        raise AssertionError(f"<{tag}> points to {url}")

    def shape(reply: Reply) -> tuple:
        return (type(reply).__name__, reply.lines, getattr(reply, "closing", None),
                getattr(reply, "patience", None))

    documents = {service.fallback}
    seen: set[Reply] = set()
    shapes: set[tuple] = set()
    start = (assistant.incoming(party), assistant.step(party, "lost", Heard(digits="1")))
    todo = deque((reply, True) for reply in start)
    with app.test_request_context("/voice", method="POST"):
        while todo:
            reply, main = todo.popleft()
            if reply in seen:
                continue
            seen.add(reply)
            new = shape(reply) not in shapes
            shapes.add(shape(reply))
            if not (main or new):
                continue
            body = rendered(reply, party)
            documents.add(body)
            for element in ET.fromstring(body).iter():
                if element.tag == "Gather":
                    todo.extend(answers(element.get("action"), "Gather", main, element.get("numDigits")))
                elif element.tag == "Redirect":
                    todo.extend(answers(element.text, "Redirect", main))
                elif element.tag == "Dial" and element.get("action"):
                    todo.extend(answers(element.get("action"), "Dial", main))
                elif element.tag == "Number" and element.get("url"):
                    token = urllib.parse.parse_qs(urllib.parse.urlsplit(element.get("url")).query)["s"][0]
                    lines = assistant.whisper(party.call_sid, token)
                    documents.add(str(service.renderer.whisper(lines)))
    return documents


@pytest.fixture(scope="module", params=[(f, h) for f in FLOWS for h in ("", "+33123456789")],
                ids=lambda p: p[0].name + ("-with-advisor" if p[1] else "-no-advisor"))
def line(request) -> tuple[str, set[str]]:
    """The advisor's number (or none) and every document the app produces for one flow."""
    flow, helpline = request.param
    app = create_app({"IVR_LOCAL": "1", "TWILIO_AUTH_TOKEN": "", "IVR_FLOW": str(flow),
                      "HELPLINE_NUMBER": helpline})
    return helpline, walk(app)


@pytest.fixture
def documents(line) -> set[str]:
    return line[1]


def test_the_walk_reaches_every_kind_of_step(documents):
    tags = {element.tag for body in documents for element in ET.fromstring(body).iter()}
    assert {"Gather", "Say", "Redirect", "Hangup"} <= tags
    assert len(documents) > 50
    # The places after the result: the postcode question (five keys) is walked too.
    gathers = [e for body in documents for e in ET.fromstring(body).iter() if e.tag == "Gather"]
    assert any(gather.get("numDigits") == "5" for gather in gathers)


def test_every_webhook_answers_as_text_xml(config):
    config["HELPLINE_NUMBER"] = "+33123456789"
    app = create_app(config)

    @app.post("/boom")
    def boom():
        raise RuntimeError("a crash, to hear the apology the app gives instead of Twilio's error")

    client = app.test_client()

    def post(path: str, form: dict[str, str]):
        signed = {"X-Twilio-Signature": signature("http://localhost" + path, {**FORM, **form})}
        return client.post(path, data={**FORM, **form}, headers=signed)

    greeting = ET.fromstring(post("/voice", {}).get_data(as_text=True))
    step = greeting.find("Gather").get("action")
    question = ET.fromstring(post(step, {"Digits": "1"}).get_data(as_text=True)).find("Gather").get("action")
    advisor = ET.fromstring(post(question, {"Digits": "0"}).get_data(as_text=True))
    dial, whisper = advisor.find("Dial").get("action"), advisor.find("Dial/Number").get("url")
    answers = [post("/voice", {}), post(step, {"Digits": "1"}), post(step + "&silence=1", {}),
               post(dial, {"DialCallStatus": "no-answer"}), post(whisper, {"ParentCallSid": FORM["CallSid"]}),
               post("/voice/transfer?nir=1", {}), post("/voice/fallback", {}), post("/boom", {})]
    assert [a.status_code for a in answers] == [200] * len(answers)
    assert {a.content_type for a in answers} == {"text/xml; charset=utf-8"}


def test_every_document_uses_only_verbs_nesting_and_attributes_twilio_documents(documents):
    bad = {problem: body for body in documents for problem in problems(ET.fromstring(body))}
    assert not bad, "\n".join(f"{problem}\n  in {body[:300]}" for problem, body in list(bad.items())[:10])


def test_every_spoken_word_is_in_a_french_voice(documents):
    for body in documents:
        for say in ET.fromstring(body).iter("Say"):
            assert say.get("language") == "fr-FR"
            assert FRENCH_VOICES.match(say.get("voice", "")), say.attrib


def test_the_advisor_line_is_dialled_with_a_whisper_only_when_configured(line):
    helpline, documents = line
    numbers = [n for body in documents for n in ET.fromstring(body).iter("Number")]
    assert bool(numbers) is bool(helpline)
    assert {n.text for n in numbers} <= {helpline}
    assert all(n.get("url", "").startswith("/voice/whisper?s=") for n in numbers)


def test_the_checker_refuses_what_twilio_would_reject():
    wrong = ET.fromstring(
        '<Response><Gather numdigits="1" input="dtmf"><Dial>+33123456789</Dial></Gather>'
        '<Hangup/><Say language="en-US" voice="Polly.Joanna">hi</Say><Redirect/></Response>'
    )
    found = " | ".join(problems(wrong))
    for expected in ("numdigits", "<Dial> inside <Gather>", "<Hangup> followed", "Polly.Joanna",
                     "language='fr-FR'", "<Redirect> without text"):
        assert expected in found
