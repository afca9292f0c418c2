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


def requirements(flow: Flow, provider: Provider) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What a provider needs: these criteria answered yes, and these (its exclusions) answered no."""
    return provider.criteria, flow.excluders(provider.id)


def standing(flow: Flow, provider: Provider, known: Known) -> bool | None:
    """True when the provider is usable, False once it is lost, None while the answers leave it open."""
    yes, no = requirements(flow, provider)
    values = [known.get(c) for c in yes] + [None if c not in known else not known[c] for c in no]
    if False in values:
        return False
    return None if None in values else True


def judge(flow: Flow, known: Known) -> Verdict:
    """Apply the rule: usable with every criterion yes and no exclusion yes, lost at the first miss."""
    failed = next((g for g in flow.gates if known.get(g) is False), None)
    if failed is None and any(g not in known for g in flow.gates):
        return Verdict(None, (), flow.providers)
    states = [(p, standing(flow, p, known)) for p in flow.providers]
    eligible = tuple(p for p, usable in states if usable)
    pending = tuple(p for p, usable in states if usable is None)
    return Verdict(failed, eligible, pending)


def closest(flow: Flow, known: Known) -> Provider | None:
    """The provider needing the fewest more yeses: fewest noes, then most yeses, then flow order.

    A provider an answer excludes is out of reach whatever the caller fetches, so it is never the
    closest; None when every provider is excluded.
    """
    def distance(p: Provider) -> tuple[int, int]:
        values = [known.get(c) for c in p.criteria]
        return values.count(False), -values.count(True)

    reachable = [p for p in flow.providers if not any(known.get(c) for c in flow.excluders(p.id))]
    return min(reachable, key=distance, default=None)


def eligible(flow: Flow, answers: Iterable[tuple[str, bool]]) -> tuple[Provider, ...]:
    """The providers these answers already make usable."""
    return judge(flow, infer(flow, answers)).eligible
