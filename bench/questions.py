"""How many questions a call asks and how many seconds they take: naive, flow order, planner, optimum.

    python bench/questions.py [FLOW ...]        (default: every flow in flows/)

For each flow, every path of the call is played through the engine (ivr.engine.call.Call) with
each question order, each path weighted by its chance under the answer model (ivr.engine.odds),
then uniformly. A question costs its estimated spoken seconds (ivr.engine.spoken: its prompt and
the short key reminder). The optimum of the same cost is found by brute force in bench/optimum.py.
The estimator's calibration needs espeak-ng and sox; what a whole call says, measured, is
bench/speech.py.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import calibrate
import espeak
from optimum import by_assignments, each_once, flat

from ivr.config import ROOT
from ivr.content import load_content
from ivr.engine import planner as planner_module
from ivr.engine.board import Board
from ivr.engine.call import Call
from ivr.engine.intents import Intent
from ivr.engine.odds import weight
from ivr.engine.planner import FewestSeconds, Planner
from ivr.engine.reply import Listen
from ivr.engine.rules import Known, infer, judge
from ivr.engine.spoken import question_seconds
from ivr.engine.state import Phase
from ivr.flow import Flow

Answers = tuple[tuple[str, bool], ...]


class FlowOrder:
    """Ask in the order the flow lists its criteria, pinned ones first, skipping what cannot matter."""

    def __init__(self, flow: Flow) -> None:
        self.board = Board(flow)
        rest = [i for i in range(len(flow.criteria)) if i not in self.board.front]
        self.order = (*self.board.front, *rest)

    def next_question(self, known: Known) -> str | None:
        need = self.board.needed(*self.board.state(known))
        return next((self.board.ids[i] for i in self.order if need >> i & 1), None)


@dataclass(frozen=True)
class Leaf:
    """One path of a call: the answers given, its chance, the providers offered at its end."""

    answers: Answers
    chance: float
    offered: tuple[str, ...]


@dataclass(frozen=True)
class Tally:
    """The paths of one question order, measured in questions and in seconds."""

    leaves: tuple[Leaf, ...]
    costs: Mapping[str, float]

    def measure(self, leaf: Leaf, unit: str) -> float:
        return len(leaf.answers) if unit == "questions" else sum(self.costs[c] for c, _ in leaf.answers)

    def mean(self, unit: str) -> float:
        return sum(leaf.chance * self.measure(leaf, unit) for leaf in self.leaves)

    def median(self, unit: str) -> float:
        """The weighted median: half the callers are asked at most this much."""
        seen = 0.0
        for leaf in sorted(self.leaves, key=lambda leaf: self.measure(leaf, unit)):
            seen += leaf.chance
            if seen >= 0.5 - 1e-12:
                return self.measure(leaf, unit)
        return self.most(unit)

    def most(self, unit: str) -> float:
        return max(self.measure(leaf, unit) for leaf in self.leaves)


def chance(flow: Flow, answers: Answers) -> float:
    """P(a caller gives these answers) under the answer model, from its implication groups."""
    given = dict(answers)
    groups: list[set[str]] = [{c.id} for c in flow.criteria]
    for rule in flow.implications:
        a = next(g for g in groups if rule.if_ in g)
        b = next(g for g in groups if rule.then in g)
        if a is not b:
            groups.remove(b)
            a |= b
    total = 1.0
    for group in groups:
        members = sorted(group)
        every = agreeing = 0.0
        for values in product((True, False), repeat=len(members)):
            assignment = dict(zip(members, values, strict=True))
            w = weight(flow, assignment)
            every += w
            if all(assignment[c] == v for c, v in given.items() if c in group):
                agreeing += w
        total *= agreeing / every
    return total


def truth(flow: Flow, known: Mapping[str, bool]) -> tuple[str, ...] | None:
    """The providers these known values make usable, restated; None while any provider is open."""
    if any(known.get(g) is False for g in flow.gates):
        return ()
    if any(g not in known for g in flow.gates):
        return None
    usable = []
    for p in flow.providers:
        bars = [r.if_ for r in flow.exclusions if r.excludes == p.id]
        if any(known.get(c) is False for c in p.criteria) or any(known.get(c) is True for c in bars):
            continue
        if any(c not in known for c in [*p.criteria, *bars]):
            return None
        usable.append(p.id)
    return tuple(usable)


def closure(flow: Flow, answers: Answers) -> dict[str, bool]:
    """The answers and what the implications force, restated here (yes forward, no backward)."""
    known = dict(answers)
    for _ in flow.implications:
        for rule in flow.implications:
            if known.get(rule.if_):
                known[rule.then] = True
            if known.get(rule.then) is False:
                known[rule.if_] = False
    return known


def tally(flow: Flow, planner: Planner, costs: Mapping[str, float]) -> Tally:
    """Play every path of the call through the engine; stop loudly at any wrong or undecided result."""
    call = Call(flow, planner)
    leaves: list[Leaf] = []
    pending = [(call.handle(call.start().state, Intent.YES), ())]
    while pending:
        reply, answers = pending.pop()
        assert isinstance(reply, Listen)
        if reply.state.phase is Phase.RESULT:
            offered = tuple(p.id for p in judge(flow, infer(flow, reply.state.answers)).eligible)
            expected = truth(flow, closure(flow, answers))
            if offered != expected:
                raise SystemExit(f"{flow.id}: after {answers} offered {offered}, the rule says {expected}")
            leaves.append(Leaf(answers, chance(flow, answers), offered))
            continue
        cid = reply.state.question
        assert cid is not None
        for value in (True, False):
            step = call.handle(reply.state, Intent.YES if value else Intent.NO)
            pending.append((step, (*answers, (cid, value))))
    total = sum(leaf.chance for leaf in leaves)
    if abs(total - 1.0) > 1e-9:
        raise SystemExit(f"{flow.id}: the paths' chances add up to {total}, not 1")
    return Tally(tuple(leaves), costs)


def naive(flow: Flow) -> list[str]:
    """Every criterion line of the source: each gate, then each provider's criteria in full."""
    return [*flow.gates, *(c for p in flow.providers for c in p.criteria)]


def timed(build: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    built = build()
    return built, time.perf_counter() - start


def table(title: str, flow: Flow, seconds: Mapping[str, float]) -> Tally:
    """Print every order for one weighting, in questions and in seconds; return the planner's tally."""
    ones = each_once(flow)
    planner_module._plan.cache_clear()
    planner, built = timed(lambda: FewestSeconds(flow, seconds))
    counting = FewestSeconds(flow, ones)
    fallback = FewestSeconds(flow, seconds, exact_limit=0)
    best, spent = timed(lambda: by_assignments(flow, seconds))
    fewest = by_assignments(flow, ones)
    ordered, planned = tally(flow, FlowOrder(flow), seconds), tally(flow, planner, seconds)
    asking = tally(flow, counting, seconds)
    lines = naive(flow)
    print(f"\n{title}")
    print(f"  {'':40} {'questions':>21}   {'seconds (estimated)':>23}")
    print(f"  {'':40} {'mean':>7} {'median':>7} {'max':>5}   {'mean':>7} {'median':>7} {'max':>7}")
    rows = [
        ("(a) naive, every criterion line", _row(len(lines), sum(seconds[c] for c in lines))),
        ("(b) flow order, skipping", _figures(ordered)),
        (f"(c) planner, fewest seconds ({'exact' if planner.exact else 'greedy'})", _figures(planned)),
        (f"(c') planner counting questions ({'exact' if counting.exact else 'greedy'})", _figures(asking)),
        ("(d) optimum of seconds, brute force", f"{'-':>7} {'-':>7} {'-':>5}   {best.mean:7.2f}"),
        ("(d') optimum of questions, brute force", f"{fewest.mean:7.3f} {'-':>7} {fewest.longest:5d}"),
    ]
    for name, figures in rows:
        print(f"  {name:40} {figures}")
    ratios = [
        ("planner / optimum, seconds", planned.mean("seconds") / best.mean),
        ("counting questions / optimum, questions", asking.mean("questions") / fewest.mean),
        ("fewest-questions plan in seconds / (c)", asking.mean("seconds") / planned.mean("seconds")),
        ("(c) in questions / fewest-questions plan", planned.mean("questions") / asking.mean("questions")),
        ("planner / naive, seconds", planned.mean("seconds") / sum(seconds[c] for c in lines)),
        ("planner / flow order, seconds", planned.mean("seconds") / ordered.mean("seconds")),
    ]
    for name, ratio in ratios:
        print(f"  {name:40} {ratio:7.3f}")
    print(f"  {'planner, its own expectation (seconds)':40} {planner.expected:7.2f}")
    gap = fallback.expected / best.mean - 1
    print(f"  {'greedy fallback (used above the bound)':40} {fallback.expected:7.2f}"
          f"   {100 * gap:+.2f} % over the optimum of seconds")
    states = len(planner.plan.memo) if planner.exact else 0
    print(f"  exact plan built in {built:.2f} s ({states} states); the brute force (seconds) took "
          f"{spent:.1f} s over {best.states} states; {len(planned.leaves)} paths")
    return planned


def _row(questions: float, seconds: float) -> str:
    return _cells((questions, questions, questions), (seconds, seconds, seconds))


def _figures(result: Tally) -> str:
    return _cells(*((result.mean(u), result.median(u), result.most(u)) for u in ("questions", "seconds")))


def _cells(questions: tuple[float, float, float], seconds: tuple[float, float, float]) -> str:
    mean, median, most = questions
    return f"{mean:7.3f} {median:7.0f} {most:5.0f}   " + " ".join(f"{s:7.2f}" for s in seconds)


def lookup_cost(flow: Flow, planner: Planner, planned: Tally) -> None:
    """Print the time one next_question takes, planner against flow order, over every path's states."""
    states = [infer(flow, leaf.answers[:k]) for leaf in planned.leaves for k in range(len(leaf.answers))]
    print(f"\nper question, time to pick it ({len(states)} states of the paths above, median of 5 runs)")
    for name, policy in (("(b) flow order", FlowOrder(flow)), ("(c) planner, plan lookup", planner)):
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            for known in states:
                policy.next_question(known)
            runs.append((time.perf_counter() - start) / len(states))
        print(f"  {name:40} {statistics.median(runs) * 1e6:7.1f} µs")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("flows", nargs="*", default=[str(p) for p in sorted((ROOT / "flows").glob("*.yaml"))])
    args = parser.parse_args(argv)
    prompts = ROOT / "prompts" / "fr"
    print("spoken seconds of a question: estimated from its syllables (ivr/engine/spoken.py)")
    if missing := espeak.missing():
        print(f"  calibration not measured: {', '.join(missing)} not installed")
    else:
        calibrate.report(calibrate.samples(prompts))
    for name in args.flows:
        path = Path(name).resolve()
        content = load_content(path, prompts)
        flow = content.flow
        seconds = question_seconds(flow, content.catalog.render)
        print(f"\n=== flow {flow.id} ({path.name}): {len(flow.criteria)} criteria, {len(flow.providers)} "
              f"providers, {len(flow.exclusions)} exclusions")
        print("  seconds per question (with the short reminder): "
              + ", ".join(f"{cid} {s:.1f}" for cid, s in seconds.items()))
        planned = table("weighted by the priors (ivr/engine/odds.py)", flow, seconds)
        table("weighted uniformly (planner and optimum both on a copy of the flow with every prior 0.5)",
              flat(flow), seconds)
        lookup_cost(flow, FewestSeconds(flow, seconds), planned)


if __name__ == "__main__":
    main()
