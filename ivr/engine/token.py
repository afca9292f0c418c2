"""The call state as a short URL-safe token, so any worker of any instance can serve any request."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from ivr.engine.state import CallState, Phase
from ivr.errors import TokenError
from ivr.flow import MAX_CRITERIA, Flow

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
assert len(ALPHABET) == MAX_CRITERIA
NO_QUESTION = "~"
# Failed tries fit in one decimal digit of the token; more than this are kept as this many.
TRIES_DIGIT_MAX = 9
MAX_LENGTH = 2 * MAX_CRITERIA + 32


def _check(flow: Flow, payload: str) -> str:
    mac = _keyed(flow.digest).copy()
    mac.update(payload.encode())
    return base64.urlsafe_b64encode(mac.digest()[:6]).decode()


@functools.lru_cache(maxsize=16)
def _keyed(digest: str) -> hmac.HMAC:
    """A MAC already keyed with the flow version; copying it is cheaper than keying anew."""
    return hmac.new(digest.encode(), digestmod=hashlib.blake2s)


def encode(flow: Flow, state: CallState) -> str:
    """Pack a state: phase, question, tries, flags, then (criterion, y/n) pairs, then a check."""
    question = NO_QUESTION if state.question is None else ALPHABET[flow.index(state.question)]
    pairs = "".join(ALPHABET[flow.index(cid)] + ("y" if v else "n") for cid, v in state.answers)
    payload = (
        f"{state.phase.value}{question}{min(state.tries, TRIES_DIGIT_MAX)}"
        f"{int(state.transfer_failed) | int(state.sms_sent) << 1}{pairs}"
    )
    return f"{payload}.{_check(flow, payload)}"


def decode(flow: Flow, token: str) -> CallState:
    """Unpack a token made by `encode` for this very flow version, or raise TokenError."""
    if len(token) > MAX_LENGTH or token.count(".") != 1:
        raise TokenError("malformed token")
    payload, check = token.split(".")
    if not hmac.compare_digest(check.encode(), _check(flow, payload).encode()):
        raise TokenError("token altered or made for another flow version")
    try:
        phase = Phase(payload[0])
        question = None if payload[1] == NO_QUESTION else _criterion(flow, payload[1])
        tries = int(payload[2])
        flags = "0123".index(payload[3])
        pairs = payload[4:]
        if len(pairs) % 2:
            raise ValueError("odd answers")
        answers = tuple(
            (_criterion(flow, pairs[i]), {"y": True, "n": False}[pairs[i + 1]])
            for i in range(0, len(pairs), 2)
        )
    except (IndexError, KeyError, ValueError) as exc:
        raise TokenError(f"malformed token ({exc})") from exc
    if phase is Phase.ASK and question is None:
        raise TokenError("a question step without a question")
    return CallState(phase, answers, question, tries, bool(flags & 1), bool(flags & 2))


def _criterion(flow: Flow, char: str) -> str:
    index = ALPHABET.index(char)
    if index >= len(flow.criteria):
        raise ValueError(f"no criterion {index}")
    return flow.criteria[index].id
