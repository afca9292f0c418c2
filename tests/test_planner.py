"""The planner asks for the fewest seconds: known optima on small flows, brute force on every flow."""

from __future__ import annotations

import importlib.util
import random
import sys
from collections import defaultdict
from collections.abc import Mapping

import pytest
from conftest import FLOWS, flow_ids, spoken
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ivr.app import create_app
from ivr.config import ROOT
from ivr.content import load_content
from ivr.engine import planner as planner_module
from ivr.engine import spoken as speech
from ivr.engine.planner import EXACT_LIMIT, FewestSeconds
from ivr.engine.reply import line
from ivr.engine.rules import infer, judge
from ivr.flow import Flow, load_flow
from tests.caller import eligible

SEED = ROOT / "flows" / "franceconnect-seed.yaml"
PROMPTS = ROOT / "prompts" / "fr"


def _bench_optimum():
    """bench/optimum.py, the brute force that shares no code with the planner's search."""
    spec = importlib.util.spec_from_file_location("optimum", ROOT / "bench" / "optimum.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("optimum", module)
    spec.loader.exec_module(module)
    return module


optimum = _bench_optimum()


def fewest_questions(flow: Flow, **options) -> FewestSeconds:
    """The planner with one unit of cost per question: it asks the fewest questions."""
    return FewestSeconds(flow, optimum.each_once(flow), **options)


def seconds_of(path_) -> tuple[Flow, dict[str, float]]:
    """A shipped flow and what asking each of its criteria costs, as the app computes it."""
    content = load_content(path_, PROMPTS)
    return content.flow, dict(speech.question_seconds(content.flow, content.catalog.render))


def make_flow(criteria: dict[str, float], providers: list[list[str]], implications=(), exclusions=(),
              **flags) -> Flow:
    """A small flow: criteria by prior, providers by criteria; flags name gate or pinned criteria."""
    rows = [
        {"id": cid, "prompt": f"q.{cid}", "help": f"h.{cid}", "label": f"l.{cid}", "prior": prior,
         "gate": cid in flags.get("gates", ()), "pinned": cid in flags.get("pinned", ())}
        for cid, prior in criteria.items()
    ]
    return Flow.model_validate({
        "id": "small", "version": 1, "criteria": rows, "steps": ["s"],
        "providers": [{"id": f"p{i}", "name": f"n.p{i}", "site": f"p{i}.fr", "criteria": cs}
                      for i, cs in enumerate(providers)],
        "implications": [{"if": a, "then": b} for a, b in implications],
        "exclusions": [{"if": a, "excludes": p} for a, p in exclusions],
    })


def path(flow: Flow, planner: FewestSeconds, values: dict[str, bool]) -> tuple[tuple[str, bool], ...]:
    """The answers a truthful caller gives, in the order the planner asks."""
    answers: list[tuple[str, bool]] = []
    while (question := planner.next_question(infer(flow, answers))) is not None:
        answers.append((question, values[question]))
    return tuple(answers)


def entitled(flow: Flow, values: dict[str, bool]) -> tuple[str, ...]:
    """The providers a profile may use, straight from the rule (tests/caller.py restates it)."""
    return tuple(eligible(flow, values))


def brute_force(flow: Flow, costs: Mapping[str, float] | None = None) -> float:
    return optimum.by_assignments(flow, costs).mean


def test_a_criterion_shared_by_two_providers_is_asked_first():
    # Shared first: 1 + .5 × 2 = 2 questions expected; either other first: 2.5.
    flow = make_flow({"a": 0.5, "shared": 0.5, "b": 0.5}, [["a", "shared"], ["shared", "b"]])
    planner = fewest_questions(flow)
    assert planner.next_question({}) == "shared"
    assert planner.expected == pytest.approx(2.0)


def test_a_shared_criterion_that_takes_long_to_ask_is_no_longer_asked_first():
    # Shared (5 s) first: 5 + .5 × (1 + 1) = 6 s. « a » (1 s) first: 1 + .5 × (5 + .5 × 1)
    # + .5 × (1 + .5 × 5) = 5.5 s, and « b » first the same: flow order keeps « a ».
    flow = make_flow({"a": 0.5, "shared": 0.5, "b": 0.5}, [["a", "shared"], ["shared", "b"]])
    planner = FewestSeconds(flow, {"a": 1.0, "shared": 5.0, "b": 1.0})
    assert planner.next_question({}) == "a"
    assert planner.next_question({"a": False}) == "b"
    assert planner.next_question({"a": True}) == "shared"
    assert planner.expected == pytest.approx(5.5)
    assert brute_force(flow, {"a": 1.0, "shared": 5.0, "b": 1.0}) == pytest.approx(5.5)


def test_the_likely_no_criterion_of_a_single_provider_is_asked_first():
    # Likely yes first: 1 + .9 = 1.9 questions expected; likely no first: 1 + .2 = 1.2.
    flow = make_flow({"likely_yes": 0.9, "likely_no": 0.2}, [["likely_yes", "likely_no"]])
    planner = fewest_questions(flow)
    assert planner.next_question({}) == "likely_no"
    assert planner.next_question({"likely_no": True}) == "likely_yes"
    assert planner.next_question({"likely_no": False}) is None
    assert planner.expected == pytest.approx(1.2)


def test_a_likely_no_question_ten_times_as_long_comes_after_a_short_one():
    # Likely no (10 s) first: 10 + .2 × 1 = 10.2 s; likely yes (1 s) first: 1 + .9 × 10 = 10 s.
    flow = make_flow({"likely_yes": 0.9, "likely_no": 0.2}, [["likely_yes", "likely_no"]])
    costs = {"likely_yes": 1.0, "likely_no": 10.0}
    planner = FewestSeconds(flow, costs)
    assert planner.next_question({}) == "likely_yes"
    assert planner.expected == pytest.approx(10.0)
    # The same flow counted in questions asks the other one first.
    assert fewest_questions(flow).next_question({}) == "likely_no"


def test_a_pinned_question_comes_first_even_when_another_would_save_more():
    free = make_flow({"first": 0.9, "rare": 0.1}, [["first", "rare"]])
    pinned = make_flow({"first": 0.9, "rare": 0.1}, [["first", "rare"]], pinned=("first",))
    assert fewest_questions(free).next_question({}) == "rare"
    assert fewest_questions(pinned).next_question({}) == "first"
    assert fewest_questions(pinned).expected == pytest.approx(1.9)


def test_pinned_questions_and_gates_keep_the_flow_order():
    flow = make_flow({"opening": 0.9, "gate": 0.9, "x": 0.1}, [["opening", "x"]], gates=("gate",),
                     pinned=("opening",))
    planner = FewestSeconds(flow, {"opening": 9.0, "gate": 9.0, "x": 1.0})
    assert planner.next_question({}) == "opening"
    assert planner.next_question({"opening": True}) == "gate"
    assert planner.next_question({"opening": True, "gate": True}) == "x"


def test_a_criterion_no_provider_needs_is_asked_when_its_yes_answers_two_that_they_do():
    # A yes to "both" (likely: .69 under the model) settles "left" and "right" in one question:
    # 1 + .31 × 2 = 1.62 questions expected, against 2 when asking them.
    flow = make_flow({"both": 0.9, "left": 0.5, "right": 0.5}, [["left"], ["right"]],
                     implications=[("both", "left"), ("both", "right")])
    planner = fewest_questions(flow)
    assert planner.next_question({}) == "both"
    assert planner.next_question(infer(flow, [("both", True)])) is None
    assert planner.next_question(infer(flow, [("both", False)])) == "left"
    assert planner.expected == pytest.approx(brute_force(flow), abs=1e-9)
    assert planner.expected < 2


def test_a_criterion_that_excludes_a_provider_is_asked_to_decide_it():
    # p0 needs « a » yes and « x » no. Likely « x » (.9) first: 1 + .1 = 1.1 questions; « a » first: 1.5.
    flow = make_flow({"a": 0.5, "x": 0.9}, [["a"]], exclusions=[("x", "p0")])
    planner = fewest_questions(flow)
    assert planner.next_question({}) == "x"
    assert planner.next_question({"x": True}) is None
    assert planner.next_question({"x": False}) == "a"
    assert planner.expected == pytest.approx(1.1)


def test_a_no_to_the_gate_ends_the_questions():
    flow = load_flow(SEED)
    planner = fewest_questions(flow)
    assert planner.next_question({}) == "nir"
    assert planner.next_question(infer(flow, [("nir", False)])) is None


def test_a_value_an_implication_gives_is_never_asked():
    flow = load_flow(SEED)
    planner = fewest_questions(flow)
    for values in optimum.profiles(flow).rows[::97]:
        profile = dict(zip((c.id for c in flow.criteria), values, strict=True))
        answers = path(flow, planner, profile)
        asked = [cid for cid, _ in answers]
        if ("nir", True) in answers:
            assert "numero_secu" not in asked
        if ("piece_identite_fr", True) in answers:
            assert "piece_identite" not in asked


@pytest.mark.parametrize("path_", FLOWS, ids=flow_ids)
def test_the_plan_expects_as_few_seconds_as_the_brute_force_optimum(path_):
    flow, seconds = seconds_of(path_)
    assert FewestSeconds(flow, seconds).expected == pytest.approx(brute_force(flow, seconds), abs=1e-9)


def test_the_plan_counted_in_questions_expects_as_few_as_the_brute_force_optimum():
    # The 2026 flow's figures are in bench/questions.py's output: the brute force takes longer there.
    flow = load_flow(SEED)
    assert fewest_questions(flow).expected == pytest.approx(brute_force(flow), abs=1e-9)


def test_the_plan_of_the_seed_flow_counted_in_questions_is_the_optimum_over_every_uniform_profile():
    flow = optimum.flat(load_flow(SEED))
    best = optimum.by_profiles(flow, optimum.profiles(flow)).mean
    assert fewest_questions(flow).expected == pytest.approx(best, abs=1e-9)


def test_the_seed_flow_expectation_in_seconds_is_the_mean_over_every_profile():
    flow, seconds = seconds_of(SEED)
    planner = FewestSeconds(flow, seconds)
    population = optimum.profiles(flow)
    mean = sum(
        w * sum(seconds[cid] for cid, _ in path(flow, planner, population.as_dict(k)))
        for k, w in enumerate(population.weights)
    )
    assert planner.expected == pytest.approx(mean, abs=1e-9)


@st.composite
def small_flows(draw) -> tuple[Flow, dict[str, float]]:
    """Random flows of 2 to 7 criteria (providers, shared criteria, implications, exclusions, a gate,
    pins), with a cost of 1 to 10 per question."""
    n = draw(st.integers(2, 7))
    ids = [f"c{i}" for i in range(n)]
    priors = {cid: draw(st.sampled_from([0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95])) for cid in ids}
    gates = ("c0",) if draw(st.booleans()) else ()
    askable = [cid for cid in ids if cid not in gates]
    providers = draw(st.lists(st.lists(st.sampled_from(askable), min_size=1, max_size=4, unique=True),
                              min_size=1, max_size=4))
    pairs = st.tuples(st.sampled_from(ids), st.sampled_from(ids)).filter(lambda r: r[0] != r[1])
    implications = draw(st.lists(pairs, max_size=3))
    pinned = tuple(draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)))
    candidates = draw(st.lists(st.tuples(st.sampled_from(askable), st.integers(0, len(providers) - 1)),
                               max_size=3))
    exclusions: list[tuple[str, str]] = []
    for cid, p in candidates:
        # Keep the exclusions the flow accepts (one a provider could never get past is refused).
        try:
            make_flow(priors, providers, implications, [*exclusions, (cid, f"p{p}")], gates=gates)
        except ValidationError:
            continue
        exclusions.append((cid, f"p{p}"))
    flow = make_flow(priors, providers, implications, exclusions, gates=gates, pinned=pinned)
    costs = {cid: float(draw(st.integers(1, 10))) for cid in ids}
    return flow, costs


@given(small_flows())
@settings(max_examples=150, deadline=None)
def test_on_any_small_flow_with_exclusions_and_costs_the_plan_is_the_brute_force_optimum(case):
    flow, costs = case
    best = optimum.by_profiles(flow, optimum.profiles(flow), costs).mean
    assert optimum.by_assignments(flow, costs).mean == pytest.approx(best, abs=1e-9)
    assert FewestSeconds(flow, costs).expected == pytest.approx(best, abs=1e-9)
    assert FewestSeconds(flow, costs, exact_limit=0).expected >= best - 1e-9


def test_a_request_only_looks_the_plan_up():
    flow, seconds = seconds_of(SEED)
    planner = FewestSeconds(flow, seconds)
    states = len(planner.plan.memo)
    population = optimum.profiles(flow)
    for k in range(len(population.rows)):
        path(flow, planner, population.as_dict(k))
    assert len(planner.plan.memo) == states
    assert FewestSeconds(flow, seconds).plan is planner.plan


def test_a_plan_is_made_for_its_costs_not_only_its_flow():
    flow, seconds = seconds_of(SEED)
    by_seconds, by_questions = FewestSeconds(flow, seconds), fewest_questions(flow)
    assert by_seconds.plan is not by_questions.plan
    assert by_seconds.expected != by_questions.expected


@pytest.mark.parametrize("path_", FLOWS, ids=flow_ids)
def test_the_app_plans_with_each_question_and_the_short_key_reminder_as_estimated_in_seconds(path_):
    app = create_app({"IVR_FLOW": str(path_)})
    service = app.extensions["ivr"]
    flow, planner, catalog = service.call.flow, service.call.planner, service.renderer.catalog
    reminder = speech.seconds(catalog.render(line("keys.short")))
    assert reminder > 1.0
    for criterion, cost in zip(flow.criteria, planner.costs, strict=True):
        question = speech.seconds(catalog.render(line(criterion.prompt)))
        assert cost == pytest.approx(question + reminder)
    # The very plan the brute force is checked against above.
    assert planner.plan is FewestSeconds(flow, seconds_of(path_)[1]).plan


def test_above_the_bound_the_greedy_plan_still_decides_every_provider():
    flow, seconds = seconds_of(SEED)
    greedy = FewestSeconds(flow, seconds, exact_limit=len(flow.criteria) - 1)
    assert not greedy.exact
    population = optimum.profiles(flow)
    for k in range(len(population.rows)):
        values = population.as_dict(k)
        known = infer(flow, path(flow, greedy, values))
        verdict = judge(flow, known)
        assert verdict.decided
        assert tuple(p.id for p in verdict.eligible) == entitled(flow, values)
    best = brute_force(flow, seconds)
    assert best <= greedy.expected < 1.02 * best


def test_a_flow_larger_than_the_bound_gets_the_greedy_plan():
    rng = random.Random(3)
    ids = [f"c{i}" for i in range(EXACT_LIMIT + 4)]
    providers = [ids[i:i + 4] for i in range(0, len(ids), 3)]
    flow = make_flow({cid: rng.uniform(0.1, 0.9) for cid in ids}, providers, implications=[("c0", "c1")],
                     exclusions=[("c2", "p3")])
    planner = FewestSeconds(flow, {cid: rng.uniform(2, 9) for cid in ids})
    assert not planner.exact
    for _ in range(300):
        values = {cid: rng.random() < 0.6 for cid in ids}
        values["c1"] = values["c1"] or values["c0"]
        verdict = judge(flow, infer(flow, path(flow, planner, values)))
        assert verdict.decided
        assert tuple(p.id for p in verdict.eligible) == entitled(flow, values)


def test_a_flow_whose_exact_search_outgrows_the_state_budget_gets_the_greedy_plan(monkeypatch):
    monkeypatch.setattr(planner_module, "EXACT_STATES", 5)
    flow = make_flow({"a": 0.3, "b": 0.6, "c": 0.5, "d": 0.4}, [["a", "b"], ["b", "c", "d"], ["d"]])
    planner = fewest_questions(flow)
    assert not planner.exact
    assert planner.expected >= brute_force(flow) - 1e-9


def test_every_path_of_the_plan_gives_the_caller_the_right_providers(app, phone):
    service = app.extensions["ivr"]
    flow, planner, catalog = service.call.flow, service.call.planner, service.renderer.catalog
    assert isinstance(planner, FewestSeconds)
    population = optimum.profiles(flow)
    paths: dict[tuple, list[dict[str, bool]]] = defaultdict(list)
    for k in range(len(population.rows)):
        values = population.as_dict(k)
        paths[path(flow, planner, values)].append(values)
    question = {c.id: catalog.render(line(c.prompt)) for c in flow.criteria}
    for answers, group in paths.items():
        offered = {entitled(flow, values) for values in group}
        assert len(offered) == 1, "one path, one result"
        providers = offered.pop()
        call = phone()
        call.dial()
        call.press("1")
        for cid, value in answers:
            assert question[cid] in spoken(call)
            call.press("1" if value else "2")
        result = spoken(call)
        assert not any(text in result for text in question.values())
        if providers:
            names = tuple(line(p.name) for p in flow.providers if p.id in providers)
            assert catalog.render(line("result.eligible", providers=names)) in result
        elif ("nir", False) in answers:
            assert catalog.render(line("result.gate_failed", item=line("label.nir"))) in result
        else:
            assert catalog.render(line("result.none")) in result


@pytest.mark.parametrize("path_", FLOWS, ids=flow_ids)
def test_every_shipped_flow_gets_the_exact_plan_which_beats_or_ties_the_greedy_one(path_):
    flow, seconds = seconds_of(path_)
    exact = FewestSeconds(flow, seconds)
    greedy = FewestSeconds(flow, seconds, exact_limit=0)
    assert exact.exact and not greedy.exact
    assert exact.expected <= greedy.expected + 1e-12
