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

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ivr.engine.rules import Known
from ivr.errors import GraphError
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


def read_report(path: str | Path, flow_id: str) -> dict[str, dict[str, int]]:
    """The counts per question of a journal report of this flow (`ivr report --flow ID --json`).

    The report is one JSON object; what is read of it is `flow` (the flow's id) and `funnel`, a
    list of {"question": criterion id, "reached": n, "yes": n, "no": n, "unsure": n,
    "hung_up": n}. Anything else in it (outcomes, SMS, durations) is not drawn.
    """
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise GraphError(f"{path}: a journal report that can be read ({exc.strerror})") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GraphError(f"{path}: a journal report in JSON (`ivr report --json`): {exc}") from exc
    if not isinstance(report, dict):
        raise GraphError(f"{path}: a JSON object, the output of `ivr report --json`")
    if report.get("flow") != flow_id:
        raise GraphError(f"{path}: flow: a report of flow {flow_id} (`ivr report --flow {flow_id} --json`), "
                         f"not {report.get('flow')!r}")
    funnel = report.get("funnel")
    if not isinstance(funnel, list):
        raise GraphError(f"{path}: funnel: a list of questions with their counts")
    counts: dict[str, dict[str, int]] = {}
    for k, row in enumerate(funnel):
        if not isinstance(row, dict) or not isinstance(row.get("question"), str):
            raise GraphError(f"{path}: funnel[{k}]: an object with a question id")
        if row["question"] in counts:
            raise GraphError(f"{path}: funnel[{k}]: question {row['question']} counted twice")
        counts[row["question"]] = {name: value for name, value in row.items() if name != "question"}
    return counts


def observe_report(plan: Plan, path: str | Path) -> Observation:
    """The plan's observed shares from a journal report file, any fault named with the file."""
    try:
        return observe(plan, read_report(path, plan.flow.id))
    except ValueError as exc:
        raise GraphError(f"{path}: funnel: {exc}") from exc
