"""How long the line talks before a caller can act: seconds and words per part of a call.

    python bench/speech.py [FLOW ...]

Every answer profile of each flow is played through the engine with keys, and every text the
caller hears is synthesised with espeak-ng's French voice at 150 words a minute and measured
with sox (`soxi -D`; each distinct text once). The prior-weighted median caller is the profile
at the weighted median of spoken seconds (weights: the flow's answer model, ivr/engine/odds.py).
That caller and fixed profiles (a caller who can use impots.gouv.fr and ameli, a caller with
nothing usable, a caller whose social-security number does not start with 1 or 2) are then
played through the app itself (Flask test client) and their speech split into parts: before the
first question (greeting, then what precedes the first question), the questions, the result (up
to where the line waits). Then the nearest France Services (issue 9) for a caller who can use
impots.gouv.fr and ameli, at 23000 on a Monday at 10:00: the seconds the key-4 offer adds to the
result, and each turn after it (the postcode question, the read-back, the two nearest places).
Goals (issue 8): the median caller of each flow hears at most 80 s in all, the greeting at most
10 s, a later question with its short reminder at most 6 s, and no single prompt has more than
25 words.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import espeak
from espeak import seconds
from optimum import profiles

from ivr.app import create_app
from ivr.config import ROOT
from ivr.engine.call import Call
from ivr.engine.intents import Intent
from ivr.engine.reply import Listen, Reply, line
from ivr.engine.state import Phase
from ivr.flow import Flow
from ivr.phone import Phone, flask_transport
from ivr.prompts import MAX_WORDS, WRITTEN, Catalog, words

TOKEN = "0123456789abcdef0123456789abcdef"
FLOWS = (ROOT / "flows" / "franceconnect-2026.yaml", ROOT / "flows" / "franceconnect-seed.yaml")
GOAL_TOTAL, GOAL_GREETING, GOAL_QUESTION = 80.0, 10.0, 6.0


def engine_turns(call: Call, catalog: Catalog, values: Mapping[str, bool]) -> list[str]:
    """What a caller with these answers hears, turn by turn, answering with keys (engine only)."""
    def said(reply: Reply) -> str:
        assert isinstance(reply, Listen)
        return " ".join(catalog.render(item) for item in reply.lines)

    reply = call.start()
    turns = [said(reply)]
    reply = call.handle(reply.state, Intent.YES)
    while isinstance(reply, Listen) and reply.state.phase is Phase.ASK:
        turns.append(said(reply))
        assert reply.state.question is not None
        reply = call.handle(reply.state, Intent.YES if values[reply.state.question] else Intent.NO)
    turns.append(said(reply))
    return turns


def median_caller(call: Call, catalog: Catalog) -> tuple[dict[str, bool], float]:
    """The profile at the prior-weighted median of spoken seconds, and that median."""
    flow = call.flow
    population = profiles(flow)
    totals = [sum(seconds(t) for t in engine_turns(call, catalog, population.as_dict(k)))
              for k in range(len(population.rows))]
    seen = 0.0
    for k in sorted(range(len(totals)), key=lambda k: totals[k]):
        seen += population.weights[k]
        if seen >= 0.5:
            return population.as_dict(k), totals[k]
    raise AssertionError("weights sum to 1")


@dataclass
class Heard:
    """What one call said, split into parts."""

    before: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    result: list[str] = field(default_factory=list)

    def parts(self) -> dict[str, str]:
        return {
            "before the first question": " ".join(self.before),
            "questions": " ".join(self.questions),
            "result": " ".join(self.result),
        }


def play_call(flow_path: Path, values: Mapping[str, bool]) -> tuple[Heard, list[str]]:
    """Play one profile through the app with keys; return what was heard, by part, and the turns."""
    app = create_app({"IVR_LOCAL": "1", "IVR_FLOW": str(flow_path), "TWILIO_AUTH_TOKEN": TOKEN})
    service = app.extensions["ivr"]
    flow, catalog = service.call.flow, service.renderer.catalog
    questions = {catalog.render(line(c.prompt)): c.id for c in flow.criteria}
    phone = Phone(flask_transport(app.test_client()), auth_token=TOKEN)
    heard = Heard()
    heard.before.append(" ".join(phone.dial()))
    turns = [heard.before[0]]
    said = " ".join(phone.press("1"))
    while True:
        turns.append(said)
        found = [(said.find(text), cid) for text, cid in questions.items() if text in said]
        if not found:
            heard.result.append(said)
            break
        start, cid = min(found)
        if not heard.questions:
            heard.before.append(said[:start].strip())
        heard.questions.append(said[start:] if not heard.questions else said)
        said = " ".join(phone.press("1" if values[cid] else "2"))
    return heard, turns


def fixed_profiles(flow: Flow) -> dict[str, dict[str, bool]]:
    """The other profiles of the table: impots + ameli, nothing usable, NIR non."""
    gates = {c.id for c in flow.criteria if c.gate}

    def only(providers: set[str]) -> dict[str, bool]:
        wanted = {cid for p in flow.providers if p.id in providers for cid in p.criteria}
        return _closed(flow, {c.id: c.id in wanted or c.id in gates for c in flow.criteria})

    nothing = only(set())
    no_nir = {**nothing, **{g: False for g in gates}}
    return {"impots + ameli": only({"impots", "ameli"}), "nothing usable": nothing, "NIR non": no_nir}


def _closed(flow: Flow, values: dict[str, bool]) -> dict[str, bool]:
    """The values with every implication's « oui » carried forward (a profile a caller can have)."""
    changed = True
    while changed:
        changed = False
        for rule in flow.implications:
            if values[rule.if_] and not values[rule.then]:
                values[rule.then] = changed = True
    return values


def longest_prompt(catalog: Catalog) -> tuple[str, int]:
    """The longest spoken prompt of the catalogue, in words (placeholders not filled in)."""
    spoken = [k for k in catalog.texts if not k.startswith(WRITTEN)]
    key = max(spoken, key=lambda k: words(catalog.texts[k]))
    return key, words(catalog.texts[key])


PLACES_POSTCODE = "23000"


def places_turns(flow_path: Path, values: Mapping[str, bool]) -> None:
    """Print the seconds the nearest France Services adds: the offer in the result, then each turn."""
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
    app = create_app({"IVR_LOCAL": "1", "IVR_FLOW": str(flow_path), "TWILIO_AUTH_TOKEN": TOKEN},
                     clock=lambda: monday)
    service = app.extensions["ivr"]
    flow, catalog = service.call.flow, service.renderer.catalog
    phone = Phone(flask_transport(app.test_client()), auth_token=TOKEN)
    phone.dial()
    said = " ".join(phone.press("1"))
    questions = {catalog.render(line(c.prompt)): c.id for c in flow.criteria}
    while found := [(said.find(text), cid) for text, cid in questions.items() if text in said]:
        said = " ".join(phone.press("1" if values[min(found)[1]] else "2"))
    offer = catalog.render(line("places.offer"))
    print(f"  {'places':16} {'offer in the result':27} {seconds(offer):8.1f} {words(offer):6d}")
    for part, keys in (("postcode question (key 4)", "4"), ("read-back", PLACES_POSTCODE),
                       ("two nearest places", "1")):
        text = " ".join(phone.press(keys))
        print(f"  {'places':16} {part:27} {seconds(text):8.1f} {words(text):6d}")


def report(flow_path: Path) -> float:
    """Print one flow's table; return the median caller's total seconds."""
    app = create_app({"IVR_LOCAL": "1", "IVR_FLOW": str(flow_path), "TWILIO_AUTH_TOKEN": TOKEN})
    flow: Flow = app.extensions["ivr"].call.flow
    catalog: Catalog = app.extensions["ivr"].renderer.catalog
    median, median_seconds = median_caller(app.extensions["ivr"].call, catalog)
    print(f"\nflow {flow.id} ({flow_path.name}): median of spoken seconds over every profile "
          f"{median_seconds:.1f} s")
    print(f"  {'profile':16} {'part':27} {'seconds':>8} {'words':>6}")
    for name, values in {"median caller": median, **fixed_profiles(flow)}.items():
        heard, turns = play_call(flow_path, values)
        total_s = total_w = 0
        for part, text in heard.parts().items():
            s, w = seconds(text), words(text)
            total_s, total_w = total_s + s, total_w + w
            print(f"  {name:16} {part:27} {s:8.1f} {w:6d}")
        print(f"  {name:16} {'total':27} {total_s:8.1f} {total_w:6d}   ({len(heard.questions)} questions)")
        if name == "median caller":
            later = [seconds(t) for t in heard.questions[1:]]
            print(f"  {'':16} greeting turn {seconds(turns[0]):.1f} s (goal ≤ {GOAL_GREETING:.0f}); later "
                  f"questions with reminder: max {max(later, default=0):.1f} s (goal ≤ {GOAL_QUESTION:.0f})")
    places_turns(flow_path, fixed_profiles(flow)["impots + ameli"])
    key, most = longest_prompt(catalog)
    print(f"  longest prompt: {key}, {most} words (goal ≤ {MAX_WORDS})")
    return median_seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("flows", nargs="*", type=Path, default=list(FLOWS))
    args = parser.parse_args(argv)
    if missing := espeak.missing():
        sys.exit(f"{', '.join(missing)} not installed: {espeak.INSTALL}")
    print(f"{espeak.LABEL}; words as heard")
    totals = {path.name: report(path.resolve()) for path in args.flows}
    print()
    for name, total in totals.items():
        verdict = "meets" if total <= GOAL_TOTAL else "MISSES"
        print(f"median caller, {name}: {total:.1f} s, {verdict} the goal of {GOAL_TOTAL:.0f} s")


if __name__ == "__main__":
    main()
