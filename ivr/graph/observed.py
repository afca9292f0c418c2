"""Observed shares: the plan with the answers callers really gave, to set beside the expected ones.

The journal counts, for each question, the calls that heard it and what they did there. They
come here as a plain mapping, the journal's funnel:

    {criterion id: {"reached": n, "yes": n, "no": n, "unsure": n, "hung_up": n}}

(a count left out is 0). They become an answer model for the plan: wherever a question is
asked, « oui » with the share of « oui » among the « oui » and « non » given to it, and a hang-up
with the share of the calls that heard it and hung up there. The counts are per question, not
per node: a question asked at several nodes gets the same rates at each. A question no caller
has answered yet keeps the planner's estimate for its split, and is named as such. « unsure »
counts calls that said « je ne sais pas » at least once, whatever they answered next: it does
not split the branches. Counts for a question the plan does not ask (another version of the
flow) are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ivr.engine.rules import Known
from ivr.graph.plan import Plan, Shares, expected_odds

# What the journal counts at each question.
COUNTS = ("reached", "yes", "no", "unsure", "hung_up")


@dataclass(frozen=True)
class Observation:
    """Shares of callers from the journal's counts, how many calls they cover, what lacks answers."""

    shares: Shares
    calls: int
    unobserved: frozenset[str]


def observe(plan: Plan, counts: Mapping[str, Mapping[str, int]]) -> Observation:
    """The plan's shares under the answers counted at each question; ValueError on a bad count."""
    for question, row in counts.items():
        for name, value in row.items():
            if name not in COUNTS:
                raise ValueError(f"counts[{question!r}]: {name!r} is not one of {', '.join(COUNTS)}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"counts[{question!r}][{name!r}]: a count of calls, not {value!r}")
    expected = expected_odds(plan.flow)

    def odds(question: str, known: Known) -> tuple[float, float]:
        row = counts.get(question, {})
        yes, no, reached = row.get("yes", 0), row.get("no", 0), row.get("reached", 0)
        p_yes = yes / (yes + no) if yes + no else expected(question, known)[0]
        gone = min(1.0, row.get("hung_up", 0) / reached) if reached else 0.0
        return p_yes, gone

    asked = {node.question for node in plan.nodes if node.question is not None}
    unobserved = frozenset(
        q for q in asked if not counts.get(q, {}).get("yes", 0) + counts.get(q, {}).get("no", 0)
    )
    first = plan.root.question
    calls = counts.get(first, {}).get("reached", 0) if first is not None else 0
    return Observation(plan.shares(odds), calls, unobserved)
