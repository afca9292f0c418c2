"""The planner asks the fewest questions: known optima on small flows, brute force on every flow."""

from __future__ import annotations

import importlib.util
import random
import sys
from collections import defaultdict

import pytest
from conftest import FLOWS, flow_ids, spoken
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.config import ROOT
from ivr.engine import planner as planner_module
from ivr.engine.planner import EXACT_LIMIT, FewestQuestions
from ivr.engine.reply import line
from ivr.engine.rules import infer, judge
from ivr.flow import Flow, load_flow

SEED = ROOT / "flows" / "franceconnect-seed.yaml"


def _bench_optimum():
    """bench/optimum.py, the brute force that shares no code with the planner's search."""
    spec = importlib.util.spec_from_file_location("optimum", ROOT / "bench" / "optimum.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("optimum", module)
    spec.loader.exec_module(module)
    return module


optimum = _bench_optimum()


def make_flow(criteria: dict[str, float], providers: list[list[str]], implications=(), **flags) -> Flow:
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
    })


def path(flow: Flow, planner: FewestQuestions, values: dict[str, bool]) -> tuple[tuple[str, bool], ...]:
    """The answers a truthful caller gives, in the order the planner asks."""
    answers: list[tuple[str, bool]] = []
    while (question := planner.next_question(infer(flow, answers))) is not None:
        answers.append((question, values[question]))
    return tuple(answers)


def entitled(flow: Flow, values: dict[str, bool]) -> tuple[str, ...]:
    """The providers a profile may use, straight from the rule."""
    if not all(values[g] for g in flow.gates):
        return ()
    return tuple(p.id for p in flow.providers if all(values[c] for c in p.criteria))


def test_a_criterion_shared_by_two_providers_is_asked_first():
    # Shared first: 1 + .5 × 2 = 2 questions expected; either other first: 2.5.
    flow = make_flow({"a": 0.5, "shared": 0.5, "b": 0.5}, [["a", "shared"], ["shared", "b"]])
    planner = FewestQuestions(flow)
    assert planner.next_question({}) == "shared"
    assert planner.expected == pytest.approx(2.0)


def test_the_likely_no_criterion_of_a_single_provider_is_asked_first():
    # Likely yes first: 1 + .9 = 1.9 questions expected; likely no first: 1 + .2 = 1.2.
    flow = make_flow({"likely_yes": 0.9, "likely_no": 0.2}, [["likely_yes", "likely_no"]])
    planner = FewestQuestions(flow)
    assert planner.next_question({}) == "likely_no"
    assert planner.next_question({"likely_no": True}) == "likely_yes"
    assert planner.next_question({"likely_no": False}) is None
    assert planner.expected == pytest.approx(1.2)


def test_a_pinned_question_comes_first_even_when_another_would_save_more():
    free = make_flow({"first": 0.9, "rare": 0.1}, [["first", "rare"]])
    pinned = make_flow({"first": 0.9, "rare": 0.1}, [["first", "rare"]], pinned=("first",))
    assert FewestQuestions(free).next_question({}) == "rare"
    assert FewestQuestions(pinned).next_question({}) == "first"
    assert FewestQuestions(pinned).expected == pytest.approx(1.9)


def test_pinned_questions_and_gates_keep_the_flow_order():
    flow = make_flow({"opening": 0.9, "gate": 0.9, "x": 0.1}, [["opening", "x"]], gates=("gate",),
                     pinned=("opening",))
    planner = FewestQuestions(flow)
    assert planner.next_question({}) == "opening"
    assert planner.next_question({"opening": True}) == "gate"
    assert planner.next_question({"opening": True, "gate": True}) == "x"


def test_a_criterion_no_provider_needs_is_asked_when_its_yes_answers_two_that_they_do():
    # A yes to "both" (likely: .69 under the model) settles "left" and "right" in one question:
    # 1 + .31 × 2 = 1.62 questions expected, against 2 when asking them.
    flow = make_flow({"both": 0.9, "left": 0.5, "right": 0.5}, [["left"], ["right"]],
                     implications=[("both", "left"), ("both", "right")])
    planner = FewestQuestions(flow)
    assert planner.next_question({}) == "both"
    assert planner.next_question(infer(flow, [("both", True)])) is None
    assert planner.next_question(infer(flow, [("both", False)])) == "left"
    assert planner.expected == pytest.approx(optimum.optimum(flow, optimum.profiles(flow)).mean, abs=1e-9)
    assert planner.expected < 2


def test_a_no_to_the_gate_ends_the_questions():
    flow = load_flow(SEED)
    planner = FewestQuestions(flow)
    assert planner.next_question({}) == "nir"
    assert planner.next_question(infer(flow, [("nir", False)])) is None


def test_a_value_an_implication_gives_is_never_asked():
    flow = load_flow(SEED)
    planner = FewestQuestions(flow)
    for values in optimum.profiles(flow).rows[::97]:
        profile = dict(zip((c.id for c in flow.criteria), values, strict=True))
        answers = path(flow, planner, profile)
        asked = [cid for cid, _ in answers]
        if ("nir", True) in answers:
            assert "numero_secu" not in asked
        if ("piece_identite_fr", True) in answers:
            assert "piece_identite" not in asked


# The brute force lists every profile: flows small enough for it (the 2026 flow's 18 criteria are
# 2^18 profiles); test_decision_tree.py walks every path of every flow.
BRUTE_FORCE_FLOWS = [p for p in FLOWS if len(load_flow(p).criteria) <= optimum.MAX_CRITERIA]


@pytest.mark.parametrize("path_", BRUTE_FORCE_FLOWS, ids=flow_ids)
@pytest.mark.parametrize("uniform", [False, True], ids=["priors", "uniform"])
def test_the_planner_expects_as_few_questions_as_the_brute_force_optimum(path_, uniform):
    flow = load_flow(path_)
    if uniform:
        flow = optimum.flat(flow)
    assert FewestQuestions(flow).expected == pytest.approx(optimum.optimum(flow, optimum.profiles(flow)).mean,
                                                           abs=1e-9)


@pytest.mark.parametrize("path_", BRUTE_FORCE_FLOWS, ids=flow_ids)
def test_the_planner_expectation_is_the_mean_over_every_profile(path_):
    flow = load_flow(path_)
    planner = FewestQuestions(flow)
    population = optimum.profiles(flow)
    mean = sum(w * len(path(flow, planner, population.as_dict(k))) for k, w in enumerate(population.weights))
    assert planner.expected == pytest.approx(mean, abs=1e-9)


@st.composite
def small_flows(draw) -> Flow:
    """Random flows of 2 to 7 criteria: providers, shared criteria, implications, a gate, pins."""
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
    return make_flow(priors, providers, implications, gates=gates, pinned=pinned)


@given(small_flows())
@settings(max_examples=150, deadline=None)
def test_on_any_small_flow_the_plan_is_the_brute_force_optimum(flow):
    best = optimum.optimum(flow, optimum.profiles(flow)).mean
    assert FewestQuestions(flow).expected == pytest.approx(best, abs=1e-9)
    assert FewestQuestions(flow, exact_limit=0).expected >= best - 1e-9


def test_a_request_only_looks_the_plan_up():
    flow = load_flow(SEED)
    planner = FewestQuestions(flow)
    states = len(planner.plan.memo)
    population = optimum.profiles(flow)
    for k in range(len(population.rows)):
        path(flow, planner, population.as_dict(k))
    assert len(planner.plan.memo) == states
    assert FewestQuestions(flow).plan is planner.plan


def test_above_the_bound_the_greedy_plan_still_decides_every_provider():
    flow = load_flow(SEED)
    greedy = FewestQuestions(flow, exact_limit=len(flow.criteria) - 1)
    assert not greedy.exact
    population = optimum.profiles(flow)
    for k in range(len(population.rows)):
        values = population.as_dict(k)
        known = infer(flow, path(flow, greedy, values))
        verdict = judge(flow, known)
        assert verdict.decided
        assert tuple(p.id for p in verdict.eligible) == entitled(flow, values)
    best = optimum.optimum(flow, population).mean
    assert best <= greedy.expected < 1.01 * best


def test_a_flow_larger_than_the_bound_gets_the_greedy_plan():
    rng = random.Random(3)
    ids = [f"c{i}" for i in range(EXACT_LIMIT + 4)]
    providers = [ids[i:i + 4] for i in range(0, len(ids), 3)]
    flow = make_flow({cid: rng.uniform(0.1, 0.9) for cid in ids}, providers, implications=[("c0", "c1")])
    planner = FewestQuestions(flow)
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
    planner = FewestQuestions(flow)
    assert not planner.exact
    assert planner.expected >= optimum.optimum(flow, optimum.profiles(flow)).mean - 1e-9


def test_every_path_of_the_plan_gives_the_caller_the_right_providers(app, phone):
    service = app.extensions["ivr"]
    flow, planner, catalog = service.call.flow, service.call.planner, service.renderer.catalog
    assert isinstance(planner, FewestQuestions)
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
    flow = load_flow(path_)
    exact = FewestQuestions(flow)
    greedy = FewestQuestions(flow, exact_limit=0)
    assert exact.exact and not greedy.exact
    assert exact.expected <= greedy.expected + 1e-12
