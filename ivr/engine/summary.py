"""What others hear or read about a call: the advisor's whisper and the result by SMS."""

from __future__ import annotations

from ivr.engine.reply import Line, PhoneNumber, line
from ivr.engine.rules import eligible
from ivr.engine.state import CallState
from ivr.flow import Flow, Provider

# The advisor hears each answer up to this many; beyond, only the noes, to stay under 20 seconds.
WHISPER_DETAIL = 6


def whisper(flow: Flow, state: CallState) -> tuple[Line, ...]:
    """What the advisor hears before the caller is connected: the answers and what they allow."""
    lines = [line("whisper.intro")]
    if len(state.answers) <= WHISPER_DETAIL:
        for cid, value in state.answers:
            said = line("whisper.yes" if value else "whisper.no")
            lines.append(line("whisper.answer", item=_short(flow, cid), value=said))
    else:
        noes = tuple(_short(flow, cid) for cid, value in state.answers if not value)
        lines.append(line("whisper.noes", items=noes) if noes else line("whisper.all_yes"))
        if noes and len(noes) < len(state.answers):
            lines.append(line("whisper.others_yes"))
    usable = eligible(flow, state.answers)
    if usable:
        lines.append(line("whisper.possible", providers=tuple(line(p.name) for p in usable)))
    else:
        lines.append(line("whisper.none_yet"))
    return tuple(lines)


def _short(flow: Flow, cid: str) -> Line:
    criterion = flow.criterion(cid)
    return line(criterion.short or criterion.label)


def text(flow: Flow, state: CallState) -> tuple[tuple[Line, ...], tuple[Line, ...]]:
    """The result as an SMS: the usable accounts with their sites and help lines, and the steps;
    then, while the message stays short, the cautions and the way without internet."""
    return text_for(eligible(flow, state.answers))


def text_for(usable: tuple[Provider, ...]) -> tuple[tuple[Line, ...], tuple[Line, ...]]:
    """The SMS for these accounts: (the message, the extras added while it stays short)."""
    sites = tuple(
        line("sms.message.provider_phone", site=p.site, number=written(p.phone)) if p.phone
        else line("sms.message.provider", site=p.site)
        for p in usable
    )
    cautions = tuple(line(p.caution) for p in usable if p.caution)
    return (line("sms.message.eligible"), *sites, line("sms.message.steps")), (
        *cautions, line("sms.message.offline"))


def written(digits: str) -> str:
    """A phone number as it is written in France, in pairs: « 09 69 39 91 11 », « 36 46 »."""
    return " ".join(PhoneNumber(digits).pairs())
