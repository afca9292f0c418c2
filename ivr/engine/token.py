"""The call state as a short sealed token in the URLs, so any worker of any instance can serve any request.

A token is encrypted and authenticated with the server's secret (AES-GCM-SIV): nobody can read the
answers in it or forge one. It is bound to one call (its id is the associated data) and to one
version of the flow (the key is derived from the flow's digest): a token replayed in another call,
or kept across a flow edit, does not open.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ivr.engine.state import CallState, Phase
from ivr.errors import TokenError
from ivr.flow import MAX_CRITERIA, Flow

NONCE = 12
TAG = 16
# The most tries the token holds (the engine stops a step at 3).
TRIES_CAP = 9
PHASES = (Phase.GREET, Phase.ASK, Phase.RESULT, Phase.POSTCODE, Phase.CONFIRM, Phase.PLACES)
# Payload: one byte of two flags and tries; one of question; one of the « helped » flag and the
# result's focus; one of the places page and phase; three of the postcode (its value + 1, 0 none);
# one per answer (criterion, then yes, no, or no after two « je ne sais pas »).
HEADER = 7
MAX_PAGE = 15
YES, NO, UNSURE = 1, 0, 2
MAX_FOCUS = 127
assert MAX_CRITERIA <= 63


def _key(secret: str, flow: Flow) -> AESGCMSIV:
    """A 256-bit key for this secret and this flow version, so a flow edit retires old tokens."""
    info = f"ivr state token v3 {flow.id} {flow.digest}".encode()
    return AESGCMSIV(HKDF(hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode()))


def length(answers: int) -> int:
    """Characters of a token holding this many answers."""
    return math.ceil((NONCE + TAG + HEADER + answers) * 4 / 3)


class Tokens:
    """Seals states with the first secret; opens tokens sealed with any of them (rotation)."""

    def __init__(self, flow: Flow, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("at least one secret")
        self.flow = flow
        self._keys = tuple(_key(secret, flow) for secret in secrets)
        # Explicit answers never repeat a criterion, so no token of this flow is longer.
        self.longest = length(len(flow.criteria))

    def seal(self, state: CallState, call: str) -> str:
        """The token for `state` in the call `call` (Twilio's CallSid)."""
        nonce = os.urandom(NONCE)
        sealed = self._keys[0].encrypt(nonce, self._pack(state), call.encode())
        return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()

    def open(self, token: str, call: str) -> CallState:
        """The state sealed in `token` for this call and flow version, or TokenError."""
        if not token or len(token) > self.longest:
            raise TokenError("malformed token")
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise TokenError("malformed token") from exc
        if len(raw) < NONCE + TAG + HEADER:
            raise TokenError("malformed token")
        for key in self._keys:
            try:
                payload = key.decrypt(raw[:NONCE], raw[NONCE:], call.encode())
            except InvalidTag:
                continue
            return self._unpack(payload)
        raise TokenError("token altered, from another call or flow version, or sealed with a retired secret")

    def _pack(self, state: CallState) -> bytes:
        flow = self.flow
        head = int(state.transfer_failed) << 5 | int(state.sms_sent) << 4
        question = 0 if state.question is None else flow.index(state.question) + 1
        answers = bytes(
            flow.index(cid) << 2 | (YES if value else UNSURE if cid in state.unsure else NO)
            for cid, value in state.answers
        )
        third = int(state.helped) << 7 | min(state.focus, MAX_FOCUS)
        fourth = min(state.page, MAX_PAGE) << 4 | PHASES.index(state.phase)
        postcode = (int(state.postcode) + 1 if state.postcode else 0).to_bytes(3, "big")
        return bytes((head | min(state.tries, TRIES_CAP), question, third, fourth)) + postcode + answers

    def _unpack(self, payload: bytes) -> CallState:
        # Only this server seals tokens, but a token from an older release must still fail cleanly.
        flow = self.flow
        head, question, third, fourth = payload[0], payload[1], payload[2], payload[3]
        code, answers = int.from_bytes(payload[4:HEADER], "big"), payload[HEADER:]
        try:
            phase = PHASES[fourth & 0x0F]
            if head >> 6 or code > 100_000:
                raise ValueError("header")
            postcode = f"{code - 1:05d}" if code else ""
            tries = head & 0x0F
            if tries > TRIES_CAP:
                raise ValueError("tries")
            asked = None if question == 0 else flow.criteria[question - 1].id
            pairs, unsure = [], set()
            for byte in answers:
                cid, value = flow.criteria[byte >> 2].id, byte & 3
                if value not in (YES, NO, UNSURE):
                    raise ValueError("answer")
                pairs.append((cid, value == YES))
                if value == UNSURE:
                    unsure.add(cid)
        except (IndexError, ValueError) as exc:
            raise TokenError(f"malformed token ({exc})") from exc
        if phase is Phase.ASK and asked is None:
            raise TokenError("a question step without a question")
        if phase in (Phase.CONFIRM, Phase.PLACES) and not postcode:
            raise TokenError("a places step without a postcode")
        return CallState(phase, tuple(pairs), asked, tries, bool(head & 0x20), bool(head & 0x10),
                         unsure=frozenset(unsure), helped=bool(third >> 7), focus=third & MAX_FOCUS,
                         postcode=postcode, page=fourth >> 4)
