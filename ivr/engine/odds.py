"""How likely each answer profile is: the one probability model of the planner and its benchmark.

A profile gives every criterion of the flow a value. Callers answer independently, each
criterion « oui » with its prior, except that no caller contradicts an implication (a yes to
`if` with a no to `then`): the weight of a profile is the product, over its criteria, of
`prior` for a yes and `1 - prior` for a no, and profiles that break an implication weigh 0.
Probabilities are weights normalised over the profiles still possible.

So a prior is the chance of « oui » for a caller whose other answers leave both answers
possible: for a criterion no implication ties, its share of « oui » among all callers. Where an
implication ties two criteria the shares differ from the priors: in the seed flow,
piece_identite_fr .92 → piece_identite .47 gives shares of .84 and .92 (see its comment).
A value the implications already fix is never asked, so it costs no question. Exclusions change
who may use a provider, not how callers answer: they play no part here.
"""

from __future__ import annotations

from collections.abc import Mapping

from ivr.flow import Flow


def consistent(flow: Flow, values: Mapping[str, bool]) -> bool:
    """True when no implication has its `if` answered yes and its `then` answered no."""
    return not any(values.get(r.if_) is True and values.get(r.then) is False for r in flow.implications)


def weight(flow: Flow, values: Mapping[str, bool]) -> float:
    """The unnormalised weight of these values: the product of their priors, 0 if inconsistent."""
    if not consistent(flow, values):
        return 0.0
    total = 1.0
    for cid, value in values.items():
        prior = flow.criterion(cid).prior
        total *= prior if value else 1.0 - prior
    return total
