"""Observed shares: the journal's counts per question and answer, as plain data, redraw the plan."""

from __future__ import annotations

import json
import re
from collections import defaultdict

import pytest

from ivr.cli import main
from ivr.engine.planner import FewestSeconds
from ivr.engine.reply import line
from ivr.flow import Flow
from ivr.graph.draw import dot
from ivr.graph.observed import observe
from ivr.graph.plan import Ending, Plan, build
from tests.conftest import SEED
from tests.test_graph import drawn


def small_plan() -> Plan:
    """A gate, then two providers of one criterion each: every caller past the gate hears both."""
    rows = [{"id": cid, "prompt": f"q.{cid}", "help": f"h.{cid}", "label": f"l.{cid}", "prior": prior,
             "gate": cid == "g"} for cid, prior in (("g", 0.9), ("a", 0.5), ("b", 0.5))]
    flow = Flow.model_validate({
        "id": "small", "version": 1, "criteria": rows, "steps": ["s"],
        "providers": [{"id": f"p{i}", "name": f"n.p{i}", "site": f"p{i}.fr", "criteria": [cid]}
                      for i, cid in enumerate(("a", "b"))],
    })
    return build(flow, FewestSeconds(flow, {c.id: 1.0 for c in flow.criteria}))


def endings(plan: Plan, shares) -> dict[Ending, float]:
    found: dict[Ending, float] = defaultdict(float)
    for node in plan.nodes:
        if node.ending is not None:
            found[node.ending] += shares.nodes[node.id]
    return dict(found)


def test_counts_that_match_the_expected_answers_give_the_expected_shares_back():
    plan = drawn(SEED).plan
    expected = plan.expected
    calls = 10**9
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for node in plan.nodes:
        if node.question is not None:
            row = counts[node.question]
            row["reached"] += round(calls * expected.nodes[node.id])
            row["yes"] += round(calls * expected.branches[node.id, True])
            row["no"] += round(calls * expected.branches[node.id, False])
    seen = observe(plan, counts)
    assert seen.calls == calls
    assert seen.unobserved == frozenset()
    for node in plan.nodes:
        assert seen.shares.nodes[node.id] == pytest.approx(expected.nodes[node.id], abs=1e-8), node.id
    assert plan.questions(seen.shares) == pytest.approx(plan.questions(expected), abs=1e-7)


def test_a_hang_up_at_a_question_is_taken_from_every_branch_below_it():
    plan = small_plan()
    counts = {
        "g": {"reached": 1000, "yes": 800, "no": 100, "unsure": 40, "hung_up": 100},
        "a": {"reached": 800, "yes": 400, "no": 400},
        "b": {"reached": 800, "yes": 200, "no": 600},
    }
    seen = observe(plan, counts).shares
    assert plan.root.question == "g"
    assert seen.hung_up[plan.root.id] == pytest.approx(0.1)
    assert seen.branches[plan.root.id, True] == pytest.approx(0.8)
    assert seen.branches[plan.root.id, False] == pytest.approx(0.1)
    assert endings(plan, seen) == pytest.approx({
        Ending(gate="g"): 0.1,
        Ending(usable=("p0", "p1")): 0.8 * 0.5 * 0.25,
        Ending(usable=("p0",)): 0.8 * 0.5 * 0.75,
        Ending(usable=("p1",)): 0.8 * 0.5 * 0.25,
        Ending(closest="p0"): 0.8 * 0.5 * 0.75,
    })
    # Whoever does not hang up ends somewhere: endings and hang-ups make up every caller.
    assert sum(endings(plan, seen).values()) + sum(seen.hung_up.values()) == pytest.approx(1.0)


def test_a_question_nobody_answered_yet_keeps_the_priors_split_and_is_named():
    plan = small_plan()
    seen = observe(plan, {"g": {"reached": 10, "yes": 10}})
    assert seen.unobserved == {"a", "b"}
    assert seen.calls == 10
    assert endings(plan, seen.shares) == pytest.approx({
        Ending(gate="g"): 0.0, Ending(usable=("p0", "p1")): 0.25, Ending(usable=("p0",)): 0.25,
        Ending(usable=("p1",)): 0.25, Ending(closest="p0"): 0.25,
    })


def test_counts_for_a_question_the_plan_does_not_ask_are_left_out():
    plan = small_plan()
    seen = observe(plan, {"former_question": {"reached": 5, "yes": 5}})
    assert seen.shares == plan.expected
    assert seen.calls == 0


@pytest.mark.parametrize("row", [{"maybe": 3}, {"yes": -1}, {"no": 1.5}, {"reached": True}],
                         ids=["unknown answer", "negative", "not whole", "not a number"])
def test_counts_that_are_not_counts_of_calls_are_refused_naming_the_question(row):
    with pytest.raises(ValueError, match="counts\\['a'\\]"):
        observe(small_plan(), {"a": row})


def test_the_observed_drawing_sets_observed_shares_beside_the_expected_ones():
    d = drawn(SEED)
    root = d.plan.root
    counts = {root.question: {"reached": 200, "yes": 160, "no": 20, "hung_up": 20}}
    seen = observe(d.plan, counts)
    source = dot(d.plan, d.catalog, seen).source

    def say(key: str, **params) -> str:
        return d.catalog.render(line(key, **params))

    def share(text: str) -> str:
        return say("graph.share", value=text)

    assert say("graph.compare", expected=share("100,0"), observed=share("100,0")) in source
    assert say("graph.hung_up", share=share("10,0")) in source
    gate = d.plan.by_id[root.no]
    assert f'{gate.id} [label="{say("graph.none")}' in source
    assert say("graph.compare", expected=share("4,9"), observed=share("10,0")) in source
    assert say("graph.legend.observed", calls="200") in source
    assert say("graph.unobserved") in source
    # Edges are as thick as the observed shares: 0.6 + 5 × 0.8 for « oui » to the gate.
    assert re.search(rf"\t{root.id} -> {root.yes} \[[^\]]*penwidth=4\.6 ", source)


def report(path, flow: str | None, funnel) -> str:
    """A journal report as `ivr report --flow ID --json` writes it (its other figures trimmed)."""
    data = {"flow": flow, "calls": 200, "outcomes": {}, "funnel": funnel}
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_ivr_graph_observed_draws_the_shares_of_a_journal_report_beside_the_expected_ones(tmp_path, capsys):
    d = drawn(SEED)
    root = d.plan.root
    counts = {"reached": 200, "yes": 160, "no": 20, "unsure": 3, "hung_up": 20}
    path = report(tmp_path / "report.json", d.flow.id, [{"question": root.question, **counts}])
    assert main(["graph", "--flow", str(SEED), "--observed", path, "--format", "dot"]) == 0
    drawing = capsys.readouterr().out
    assert drawing == dot(d.plan, d.catalog, observe(d.plan, {root.question: counts})).source
    assert d.catalog.render(line("graph.legend.observed", calls="200")) in drawing


@pytest.mark.parametrize(("content", "named"), [
    ("not json", "report.json: a journal report in JSON"),
    ("[]", "report.json: a JSON object"),
    (json.dumps({"flow": None, "funnel": []}), "report.json: flow: a report of flow franceconnect_seed"),
    (json.dumps({"flow": "franceconnect_seed"}), "report.json: funnel: a list"),
    (json.dumps({"flow": "franceconnect_seed", "funnel": [{"yes": 1}]}), "report.json: funnel[0]: "),
    (json.dumps({"flow": "franceconnect_seed", "funnel": [{"question": "nir", "yes": -1}]}),
     "report.json: funnel: counts['nir']['yes']"),
], ids=["not json", "not an object", "every flow", "no funnel", "no question", "negative count"])
def test_a_report_that_is_not_this_flows_journal_report_is_refused_naming_the_file_and_field(
        tmp_path, capsys, content, named):
    path = tmp_path / "report.json"
    path.write_text(content, encoding="utf-8")
    out = tmp_path / "plan.dot"
    assert main(["graph", "--flow", str(SEED), "--observed", str(path), "-o", str(out)]) == 2
    assert named in capsys.readouterr().err
    assert not out.exists()
