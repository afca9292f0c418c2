"""A caller's phone and Twilio between them: posts webhooks, follows TwiML, hears the <Say> text.

Used by `ivr call`, the tests and the load tests, against the Flask test client or a real server.
It behaves as Twilio documents: signed form posts, relative URLs resolved against the current
one, a <Gather> that falls through to the next verb on silence, a document that ends the call
when it runs out of verbs, a <Dial> whose <Number url> whisper is fetched before connecting.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from twilio.request_validator import RequestValidator

CONTINUE_VERBS = {"Say", "Play", "Pause"}


@dataclass
class Answer:
    status: int
    content_type: str
    body: str


Transport = Callable[[str, Mapping[str, str], Mapping[str, str]], Answer]


def flask_transport(client) -> Transport:
    """Post through a Flask test client; URLs are absolute, the client needs the path."""

    def post(url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> Answer:
        parts = urllib.parse.urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        base = f"{parts.scheme}://{parts.netloc}"
        response = client.post(target, data=dict(form), headers=dict(headers), base_url=base)
        return Answer(response.status_code, response.mimetype, response.get_data(as_text=True))

    return post


def http_transport(timeout: float = 15.0) -> Transport:
    """Post over HTTP to a running server, with Twilio's 15-second patience."""

    def post(url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> Answer:
        data = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(url, data=data, headers=dict(headers), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                kind = response.headers.get_content_type()
                return Answer(response.status, kind, response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers.get_content_type(), error.read().decode("utf-8"))

    return post


class CallFailed(AssertionError):
    """The server answered something Twilio would reject (an HTTP error, or not TwiML)."""


@dataclass
class Phone:
    """One call. `dial` starts it; `press`, `say` and `wait` answer the pending <Gather>."""

    transport: Transport
    base_url: str = "http://localhost"
    auth_token: str = ""
    caller: str = "+33612345678"
    line: str = "+33900000000"
    call_sid: str = "CA00000000000000000000000000000000"
    advisor_answers: bool = True
    heard: list[str] = field(default_factory=list)
    whispers: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    ended: bool = False
    dialled: list[str] = field(default_factory=list)
    _gather: ET.Element | None = None
    _rest: list[ET.Element] = field(default_factory=list)
    _url: str = ""

    def dial(self, path: str = "/voice", **params: str) -> list[str]:
        """Place the call; returns what is heard until the line waits for the caller."""
        return self._turn(self._post(self._resolve(path), params))

    def press(self, digits: str) -> list[str]:
        """Key presses, posted as Digits to the pending Gather's action."""
        return self._answer({"Digits": digits})

    def say(self, words: str, confidence: float = 0.92) -> list[str]:
        """Words, posted as Twilio's transcript with its confidence."""
        return self._answer({"SpeechResult": words, "Confidence": f"{confidence:.6f}"})

    def wait(self) -> list[str]:
        """Silence: the Gather times out and Twilio goes on with the next verb."""
        self._require_gather()
        self._gather = None
        return self._turn(self._rest)

    def post(self, params: Mapping[str, str]) -> list[str]:
        """Any form to the pending Gather's action (for malformed input)."""
        return self._answer(dict(params))

    def follow(self, url: str, answer: Answer) -> list[str]:
        """Carry on from the answer to a request sent by other means (hand-made or fuzzed) to `url`."""
        self._gather = None
        self._url = url
        return self._turn(self._read(url, answer))

    @property
    def action(self) -> str | None:
        """The absolute URL the pending Gather posts the caller's answer to."""
        if not self.waiting:
            return None
        return self._resolve(self._gather.get("action") or self._url)

    @property
    def waiting(self) -> bool:
        return self._gather is not None and not self.ended

    def _answer(self, params: dict[str, str]) -> list[str]:
        gather = self._require_gather()
        action = self._resolve(gather.get("action") or self._url)
        self._gather = None
        return self._turn(self._post(action, params))

    def _require_gather(self) -> ET.Element:
        if self._gather is None or self.ended:
            raise CallFailed("the line is not waiting for an answer")
        return self._gather

    def _resolve(self, url: str) -> str:
        return urllib.parse.urljoin(self._url or self.base_url + "/", url)

    def _form(self, extra: Mapping[str, str]) -> dict[str, str]:
        return {
            "CallSid": self.call_sid,
            "AccountSid": "AC00000000000000000000000000000000",
            "From": self.caller,
            "To": self.line,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            **extra,
        }

    def _fetch(self, url: str, params: Mapping[str, str]) -> list[ET.Element]:
        form = self._form(params)
        headers = {}
        if self.auth_token:
            headers["X-Twilio-Signature"] = RequestValidator(self.auth_token).compute_signature(url, form)
        return self._read(url, self.transport(url, form, headers))

    def _read(self, url: str, answer: Answer) -> list[ET.Element]:
        if answer.status != 200:
            raise CallFailed(f"POST {url} answered HTTP {answer.status}: {answer.body[:200]}")
        if answer.content_type not in ("text/xml", "application/xml"):
            raise CallFailed(f"POST {url} answered {answer.content_type}, not TwiML")
        try:
            root = ET.fromstring(answer.body)
        except ET.ParseError as error:
            raise CallFailed(f"POST {url} answered unparseable XML: {error}") from error
        if root.tag != "Response":
            raise CallFailed(f"POST {url} answered <{root.tag}>, not <Response>")
        return list(root)

    def _post(self, url: str, params: Mapping[str, str]) -> list[ET.Element]:
        self._url = url
        return self._fetch(url, params)

    def _turn(self, verbs: list[ET.Element]) -> list[str]:
        """Run verbs until a Gather waits for input or the call ends; return the new speech."""
        heard: list[str] = []
        verbs = list(verbs)
        for _ in range(100):
            if not verbs:
                self.ended = True
                break
            verb, verbs = verbs[0], verbs[1:]
            if verb.tag == "Say":
                heard.append(_text(verb))
            elif verb.tag == "Gather":
                heard.extend(_text(child) for child in verb if child.tag == "Say")
                self._gather, self._rest = verb, verbs
                break
            elif verb.tag == "Redirect":
                verbs = self._post(self._resolve(_text(verb)), {})
            elif verb.tag == "Hangup":
                self.ended = True
                break
            elif verb.tag == "Dial":
                after = self._dial(verb)
                verbs = verbs if after is None else after
            elif verb.tag not in CONTINUE_VERBS:
                raise CallFailed(f"unexpected verb <{verb.tag}>")
        else:
            raise CallFailed("more than 100 verbs without waiting for the caller: a loop")
        self.heard = heard
        self.transcript.extend(heard)
        return heard

    def _dial(self, dial: ET.Element) -> list[ET.Element] | None:
        number = dial.find("Number")
        target = _text(number) if number is not None else _text(dial)
        self.dialled.append(target)
        status = "no-answer"
        if self.advisor_answers:
            status = "completed"
            if number is not None and number.get("url"):
                # Twilio fetches it on the advisor's new leg, a child of this call.
                child = "CA" + hashlib.sha256(self.call_sid.encode()).hexdigest()[:32]
                leg = {"CallSid": child, "ParentCallSid": self.call_sid,
                       "Direction": "outbound-dial", "From": dial.get("callerId") or self.line, "To": target}
                whisper = self._fetch(self._resolve(number.get("url")), leg)
                self.whispers.append(" ".join(_text(v) for v in whisper if v.tag == "Say"))
        action = dial.get("action")
        if not action:
            return None
        return self._post(self._resolve(action), {"DialCallStatus": status, "DialCallDuration": "60"})


def _text(element: ET.Element) -> str:
    """All the text a <Say> speaks, SSML children included."""
    return " ".join("".join(element.itertext()).split())
