"""What the answers so far tell: known criteria and each provider's verdict."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ivr.flow import Flow, Provider

Known = Mapping[str, bool]


def infer(flow: Flow, answers: Iterable[tuple[str, bool]]) -> dict[str, bool]:
    """Known values: the answers, plus every implication they trigger (yes forward, no backward)."""
    known = dict(answers)
    changed = True
    while changed:
        changed = False
        for rule in flow.implications:
            if known.get(rule.if_) is True and rule.then not in known:
                known[rule.then] = True
                changed = True
            elif known.get(rule.then) is False and rule.if_ not in known:
                known[rule.if_] = False
                changed = True
    return known


@dataclass(frozen=True)
class Verdict:
    """The failed gate if any, the providers usable, and those still open."""

    gate_failed: str | None
    eligible: tuple[Provider, ...]
    open: tuple[Provider, ...]

    @property
    def decided(self) -> bool:
        return self.gate_failed is not None or not self.open


def judge(flow: Flow, known: Known) -> Verdict:
    """Apply the rule: a provider is usable when all its criteria are yes, lost at the first no."""
    failed = next((g for g in flow.gates if known.get(g) is False), None)
    eligible, pending = [], []
    for provider in flow.providers:
        values = [known.get(c) for c in provider.criteria]
        if False in values:
            continue
        if None in values:
            pending.append(provider)
        else:
            eligible.append(provider)
    if any(g not in known for g in flow.gates) and failed is None:
        pending, eligible = list(flow.providers), []
    return Verdict(failed, tuple(eligible), tuple(pending))


def closest(flow: Flow, known: Known) -> Provider:
    """The provider needing the fewest more yeses: fewest noes, then most yeses, then flow order."""
    def distance(p: Provider) -> tuple[int, int]:
        values = [known.get(c) for c in p.criteria]
        return values.count(False), -values.count(True)

    return min(flow.providers, key=distance)


def eligible(flow: Flow, answers: Iterable[tuple[str, bool]]) -> tuple[Provider, ...]:
    """The providers these answers already make usable."""
    return judge(flow, infer(flow, answers)).eligible
