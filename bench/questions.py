"""How many questions a call asks, and how long it speaks: naive, flow order, planner, optimum.

    python bench/questions.py [FLOW]

Every answer profile of the flow is played through the engine (ivr.engine.call.Call) with each
question order, weighted by the priors (ivr.engine.odds) and then uniformly. The optimum is
found by brute force in bench/optimum.py. The spoken length needs espeak-ng and sox.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from optimum import MAX_CRITERIA, Profiles, flat, optimum, profiles

from ivr.app import create_app
from ivr.config import ROOT
from ivr.content import load_content
from ivr.engine.board import Board
from ivr.engine.call import Call
from ivr.engine.intents import Intent
from ivr.engine.planner import FewestQuestions, Planner
from ivr.engine.reply import Listen, line
from ivr.engine.rules import Known, infer, judge
from ivr.engine.state import Phase
from ivr.flow import Flow
from ivr.phone import Phone, flask_transport
from ivr.prompts import Catalog

TOKEN = "bench-auth-token"
VOICE = ("-v", "fr", "-s", "150")


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
class Tally:
    """Questions per profile for one question order."""

    counts: tuple[int, ...]

    def mean(self, population: Profiles) -> float:
        return sum(w * n for w, n in zip(population.weights, self.counts, strict=True))

    def median(self, population: Profiles) -> int:
        """The weighted median: half the weight is on calls asking at most this many questions."""
        seen = 0.0
        for k in sorted(range(len(self.counts)), key=lambda k: self.counts[k]):
            seen += population.weights[k]
            if seen >= 0.5:
                return self.counts[k]
        return max(self.counts)

    @property
    def most(self) -> int:
        return max(self.counts)


def play(flow: Flow, planner: Planner, values: dict[str, bool]) -> tuple[int, tuple[str, ...]]:
    """Answer a whole call truthfully through the engine: (questions asked, providers offered)."""
    call = Call(flow, planner)
    reply = call.handle(call.start().state, Intent.YES)
    asked = 0
    while isinstance(reply, Listen) and reply.state.phase is Phase.ASK:
        asked += 1
        assert reply.state.question is not None
        reply = call.handle(reply.state, Intent.YES if values[reply.state.question] else Intent.NO)
    assert isinstance(reply, Listen) and reply.state.phase is Phase.RESULT
    verdict = judge(flow, infer(flow, reply.state.answers))
    return asked, tuple(p.id for p in verdict.eligible)


def truth(flow: Flow, values: dict[str, bool]) -> tuple[str, ...]:
    """The providers a profile may use, straight from the rule."""
    if not all(values[g] for g in flow.gates):
        return ()
    return tuple(p.id for p in flow.providers if all(values[c] for c in p.criteria))


def tally(flow: Flow, planner: Planner, population: Profiles) -> Tally:
    """Play every profile; stop loudly if any call ends with the wrong providers."""
    counts = []
    for k in range(len(population.rows)):
        values = population.as_dict(k)
        asked, offered = play(flow, planner, values)
        if offered != truth(flow, values):
            sys.exit(f"wrong result for {values}: offered {offered}, expected {truth(flow, values)}")
        counts.append(asked)
    return Tally(tuple(counts))


def naive_count(flow: Flow) -> int:
    """Every criterion line of the source: each gate, then each provider's criteria in full."""
    return len(flow.gates) + sum(len(p.criteria) for p in flow.providers)


def naive_order(flow: Flow) -> list[str]:
    return [*flow.gates, *(c for p in flow.providers for c in p.criteria)]


def table(title: str, flow: Flow, population: Profiles) -> Tally:
    """Print the four orders for one weighting; return the planner's tally."""
    planner = FewestQuestions(flow)
    fallback = FewestQuestions(flow, exact_limit=0)
    best = optimum(flow, population)
    naive = naive_count(flow)
    ordered = tally(flow, FlowOrder(flow), population)
    planned = tally(flow, planner, population)
    rows = [
        ("(a) naive, every criterion line", naive, f"{naive:d}", naive),
        ("(b) flow order, skipping", *_figures(ordered, population)),
        (f"(c) planner ({'exact' if planner.exact else 'greedy'})", *_figures(planned, population)),
        ("(d) optimum, brute force", best.mean, "-", best.longest),
    ]
    greedy = tally(flow, fallback, population).mean(population)
    gap = greedy / best.mean - 1 if abs(greedy - best.mean) > 1e-9 else 0.0
    print(f"\n{title}")
    print(f"  {'':36} {'mean':>7} {'median':>7} {'max':>4}")
    for name, mean, median, most in rows:
        print(f"  {name:36} {mean:7.3f} {median:>7} {most:4d}")
    print(f"  {'planner / optimum':36} {planned.mean(population) / best.mean:7.3f}")
    print(f"  {'planner / naive':36} {planned.mean(population) / naive:7.3f}")
    print(f"  {'planner / flow order':36} {planned.mean(population) / ordered.mean(population):7.3f}")
    print(f"  {'planner, its own expectation':36} {planner.expected:7.3f}")
    print(f"  {'greedy fallback (used above bound)':36} {greedy:7.3f}"
          f"       {100 * gap:+.2f} % over the optimum")
    print(f"  (the brute force solved {best.states} distinct sets of profiles)")
    return planned


def _figures(result: Tally, population: Profiles) -> tuple[float, str, int]:
    return result.mean(population), str(result.median(population)), result.most


def lookup_cost(flow: Flow, population: Profiles) -> None:
    """Print the time one next_question takes, planner against flow order, over every call's states."""
    planner, order = FewestQuestions(flow), FlowOrder(flow)
    states = []
    for k in range(len(population.rows)):
        values, answers = population.as_dict(k), []
        while (cid := planner.next_question(known := infer(flow, answers))) is not None:
            states.append(known)
            answers.append((cid, values[cid]))
    print(f"\nper question, time to pick it ({len(states)} states of the calls above, median of 5 runs)")
    for name, policy in (("(b) flow order", order), ("(c) planner, plan lookup", planner)):
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            for known in states:
                policy.next_question(known)
            runs.append((time.perf_counter() - start) / len(states))
        print(f"  {name:36} {statistics.median(runs) * 1e6:7.1f} µs")


def median_profile(population: Profiles, planned: Tally) -> int:
    """The likeliest profile among those asked the weighted-median number of questions."""
    median = planned.median(population)
    same = [k for k, n in enumerate(planned.counts) if n == median]
    return max(same, key=lambda k: population.weights[k])


def transcript(path: Path, catalog: Catalog, values: dict[str, bool]) -> tuple[str, list[str]]:
    """What the caller hears in a real call through the app (Flask test client); and what it asked."""
    prompts = ROOT / "prompts" / "fr"
    app = create_app({"IVR_FLOW": str(path), "IVR_PROMPTS": str(prompts), "TWILIO_AUTH_TOKEN": TOKEN})
    flow: Flow = app.extensions["ivr"].call.flow
    questions = {c.id: _question(catalog, c.id, flow) for c in flow.criteria}
    phone = Phone(flask_transport(app.test_client()), auth_token=TOKEN)
    phone.dial()
    phone.press("1")
    asked: list[str] = []
    while True:
        heard = " ".join(phone.heard)
        here = [cid for cid, text in questions.items() if text in heard]
        if not here:
            break
        cid = max(here, key=lambda c: len(questions[c]))
        asked.append(cid)
        phone.press("1" if values[cid] else "2")
    return " ".join(phone.transcript), asked


def _question(catalog: Catalog, cid: str, flow: Flow) -> str:
    """A question as spoken: its prompt, then the answer keys."""
    return f"{catalog.render(line(flow.criterion(cid).prompt))} {catalog.render(line('keys.answer'))}"


def naive_transcript(flow: Flow, catalog: Catalog, planned: str, asked: list[str]) -> str:
    """The same call asking every criterion line of the source in place of the planned questions."""
    said = [_question(catalog, cid, flow) for cid in asked]
    naive = [_question(catalog, cid, flow) for cid in naive_order(flow)]
    # The first question keeps its place and the key map that follows it; the others go where
    # the second planned question was (or right after the first when only one was asked).
    text = planned.replace(said[0], naive[0], 1)
    anchor = text.find(said[1]) if len(said) > 1 else text.find(naive[0]) + len(naive[0]) + 1
    for question in said[1:]:
        text = text.replace(question + " ", "", 1)
    return f"{text[:anchor]}{' '.join(naive[1:])} {text[anchor:]}"


def seconds(text: str) -> float:
    """Length of the text spoken by espeak-ng's French voice at 150 words per minute."""
    with tempfile.TemporaryDirectory() as folder:
        source, wav = Path(folder) / "call.txt", Path(folder) / "call.wav"
        source.write_text(text, encoding="utf-8")
        subprocess.run(["espeak-ng", *VOICE, "-f", str(source), "-w", str(wav)], check=True)
        out = subprocess.run(["soxi", "-D", str(wav)], check=True, capture_output=True, text=True)
        return float(out.stdout)


def speech(path: Path, flow: Flow, catalog: Catalog, population: Profiles, planned: Tally) -> None:
    """Print how long the naive and the planned call speak for the median profile."""
    k = median_profile(population, planned)
    values = population.as_dict(k)
    said, asked = transcript(path, catalog, values)
    naive = naive_transcript(flow, catalog, said, asked)
    print(f"\nspoken length of a whole call, median profile under the priors ({len(asked)} planned "
          f"questions, offered: {', '.join(truth(flow, values)) or 'none'})")
    missing = [tool for tool in ("espeak-ng", "sox", "soxi") if shutil.which(tool) is None]
    if missing:
        print(f"  not measured: {', '.join(missing)} not installed (apt-get install -y espeak-ng sox)")
        return
    slow, fast = seconds(naive), seconds(said)
    print(f"  espeak-ng {' '.join(VOICE)}, measured with soxi -D")
    print(f"  {'(a) naive, ' + str(naive_count(flow)) + ' questions':36} {slow:7.1f} s")
    print(f"  {'(c) planner, ' + str(len(asked)) + ' questions':36} {fast:7.1f} s")
    print(f"  {'planner / naive':36} {fast / slow:7.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("flow", nargs="?", default=str(ROOT / "flows" / "franceconnect-seed.yaml"))
    args = parser.parse_args(argv)
    path = Path(args.flow).resolve()
    content = load_content(path, ROOT / "prompts" / "fr")
    flow = content.flow
    if len(flow.criteria) > MAX_CRITERIA:
        sys.exit(f"{path.name}: {len(flow.criteria)} criteria; the brute force lists at most {MAX_CRITERIA}")
    population = profiles(flow)
    print(f"flow {flow.id} ({path.name}): {len(flow.criteria)} criteria, {len(flow.providers)} providers, "
          f"{len(population.rows)} answer profiles (those breaking an implication excluded)")
    planned = table("weighted by the priors (ivr/engine/odds.py)", flow, population)
    uniform = flat(flow)
    table("weighted uniformly (planner and optimum both on a copy of the flow with every prior 0.5)",
          uniform, profiles(uniform))
    lookup_cost(flow, population)
    speech(path, flow, content.catalog, population, planned)


if __name__ == "__main__":
    main()
