"""`ivr graph` draws the plan calls follow: every caller ends where the rule says, shares add up."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
import yaml

from ivr.app import create_app
from ivr.cli import main
from ivr.config import ROOT
from ivr.engine.call import Call
from ivr.engine.intents import Intent
from ivr.engine.odds import weight
from ivr.engine.planner import FewestSeconds
from ivr.engine.reply import Listen, line
from ivr.engine.state import CallState, Phase
from ivr.flow import Flow
from ivr.graph.draw import dot
from ivr.graph.plan import Ending, Node, Plan, build
from ivr.prompts import Catalog
from tests.caller import closure, consistent_profiles, eligible
from tests.conftest import AUTH_TOKEN, FLOWS, SEED, flow_ids

DRAWINGS = ROOT / "docs" / "flows"
PROMPTS = ROOT / "prompts" / "fr"


@dataclass(frozen=True)
class Drawn:
    flow: Flow
    plan: Plan
    call: Call
    catalog: Catalog


@cache
def drawn(path: Path) -> Drawn:
    """The plan of a flow, asked of the planner the app builds, with the app's conversation."""
    service = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_FLOW": str(path)}).extensions["ivr"]
    return Drawn(service.call.flow, build(service.call.flow, service.call.planner), service.call,
                 service.renderer.catalog)


@dataclass
class Walk:
    """One way through the drawing: the answers given, the ending, the callers who take it.

    `verdicts` holds what the oracle says of each of those callers: (accounts usable, failed gate).
    """

    answers: tuple[tuple[str, bool], ...]
    ending: Node
    verdicts: set[tuple[tuple[str, ...], str | None]] = field(default_factory=set)
    weight: float = 0.0


@cache
def walks(path: Path) -> tuple[Walk, ...]:
    """Every consistent answer profile of the flow, walked through the drawing from its root."""
    d = drawn(path)
    found: dict[tuple[tuple[str, bool], ...], Walk] = {}
    for profile in consistent_profiles(d.flow):
        node, answers = d.plan.root, []
        while node.question is not None:
            answers.append((node.question, profile[node.question]))
            node = d.plan.by_id[node.after(profile[node.question])]
        walked = found.get(tuple(answers))
        if walked is None:
            walked = found[tuple(answers)] = Walk(tuple(answers), node)
            for k, (cid, _) in enumerate(answers):
                assert cid not in closure(d.flow, dict(answers[:k])), f"{cid} asked after {answers[:k]}"
        failed = next((c.id for c in d.flow.criteria if c.gate and not profile[c.id]), None)
        walked.verdicts.add((tuple(eligible(d.flow, profile)), failed))
        walked.weight += weight(d.flow, profile)
    return tuple(found.values())


def reachable(flow: Flow, answers: tuple[tuple[str, bool], ...]) -> set[str]:
    """The providers no « oui » of these answers (implications applied) excludes."""
    known = closure(flow, dict(answers))
    return {p.id for p in flow.providers
            if not any(known.get(r.if_) for r in flow.exclusions if r.excludes == p.id)}


@pytest.mark.parametrize("path", FLOWS, ids=flow_ids)
def test_every_caller_follows_one_path_to_the_accounts_the_eligibility_rule_gives(path):
    d = drawn(path)
    for walked in walks(path):
        ending = walked.ending.ending
        assert ending is not None
        assert walked.verdicts == {(ending.usable, ending.gate)}, walked.answers
        if ending.usable or ending.gate:
            assert ending.closest is None
        else:
            # The closest provider is one no answer excluded, exactly when there is one.
            assert (ending.closest is None) == (reachable(d.flow, walked.answers) == set())
    endings = {walked.ending.id for walked in walks(path)}
    drawn_endings = {node.id for node in d.plan.nodes if node.ending is not None}
    assert endings == drawn_endings, "an ending nobody reaches"


@pytest.mark.parametrize("path", FLOWS, ids=flow_ids)
def test_each_path_of_the_drawing_is_the_call_the_line_makes(path):
    """Played through the conversation, a path's answers hear its questions, then its ending."""
    d = drawn(path)
    names = {p.id: line(p.name) for p in d.flow.providers}
    for walked in walks(path):
        reply = d.call.handle(d.call.start().state, Intent.YES)
        for cid, value in walked.answers:
            assert isinstance(reply, Listen) and reply.state.question == cid
            reply = d.call.handle(reply.state, Intent.YES if value else Intent.NO)
        assert isinstance(reply, Listen) and reply.state.phase is Phase.RESULT
        ending = walked.ending.ending
        assert ending is not None
        if ending.gate:
            expected = line("result.gate_failed", item=line(d.flow.criterion(ending.gate).label))
        elif ending.usable:
            expected = line("result.eligible", providers=tuple(names[p] for p in ending.usable))
        elif ending.closest is None:
            expected = line("result.none")
        else:
            expected = line("result.closest", provider=names[ending.closest])
        assert expected in reply.lines, walked.answers


@pytest.mark.parametrize("path", FLOWS, ids=flow_ids)
def test_each_ending_shows_the_share_of_the_callers_who_end_there(path):
    d = drawn(path)
    walked = walks(path)
    total = sum(w.weight for w in walked)
    ending: dict[str, float] = defaultdict(float)
    for w in walked:
        ending[w.ending.id] += w.weight / total
    expected = d.plan.expected
    for nid, share in ending.items():
        assert expected.nodes[nid] == pytest.approx(share, abs=1e-12), nid
    questions = sum(w.weight / total * len(w.answers) for w in walked)
    assert d.plan.questions(expected) == pytest.approx(questions, abs=1e-9)


@pytest.mark.parametrize("path", FLOWS, ids=flow_ids)
def test_shares_at_each_level_sum_to_one(path):
    plan = drawn(path).plan
    shares = plan.expected
    level, ended, depth = {plan.root.id: 1.0}, 0.0, 0
    while level:
        assert ended + sum(level.values()) == pytest.approx(1.0, abs=1e-12), f"level {depth}"
        below: dict[str, float] = defaultdict(float)
        for nid, share in level.items():
            node = plan.by_id[nid]
            if node.question is None:
                ended += share
                continue
            for answer in (True, False):
                below[node.after(answer)] += share * shares.branches[nid, answer] / shares.nodes[nid]
        level, depth = below, depth + 1
    assert ended == pytest.approx(1.0, abs=1e-12)
    assert depth <= len(drawn(path).flow.criteria) + 1


@pytest.mark.parametrize("path", FLOWS, ids=flow_ids)
def test_each_node_share_is_the_sum_of_its_branches_and_of_the_branches_into_it(path):
    plan = drawn(path).plan
    shares = plan.expected
    into: dict[str, float] = defaultdict(float)
    for node in plan.nodes:
        if node.question is not None:
            out = shares.branches[node.id, True] + shares.branches[node.id, False]
            assert shares.nodes[node.id] == pytest.approx(out, abs=1e-12), node.id
            assert shares.hung_up[node.id] == 0.0
            for answer in (True, False):
                into[node.after(answer)] += shares.branches[node.id, answer]
    assert shares.nodes[plan.root.id] == 1.0
    for node in plan.nodes[1:]:
        assert shares.nodes[node.id] == pytest.approx(into[node.id], abs=1e-12), node.id
        assert shares.nodes[node.id] > 0.0, f"{node.id} is drawn but nobody reaches it"
    endings = sum(shares.nodes[n.id] for n in plan.nodes if n.ending is not None)
    assert endings == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("path", FLOWS, ids=flow_ids)
def test_a_doubted_answer_follows_the_non_branch(path):
    """Twice « je ne sais pas » is noted « non »: the call goes on as after « non », as the legend says."""
    d = drawn(path)
    stack: list[tuple[Node, tuple[tuple[str, bool], ...]]] = [(d.plan.root, ())]
    while stack:
        node, answers = stack.pop()
        if node.question is None:
            continue
        here = CallState(Phase.ASK, answers=answers, question=node.question)
        helped = d.call.handle(here, Intent.UNSURE)
        noted = d.call.handle(helped.state, Intent.UNSURE)
        assert isinstance(noted, Listen) and noted.lines[0] == line("ask.doubt")
        after = d.plan.by_id[node.after(False)]
        assert noted.state.question == after.question
        assert noted.state.phase is (Phase.RESULT if after.question is None else Phase.ASK)
        for answer in (True, False):
            stack.append((d.plan.by_id[node.after(answer)], (*answers, (node.question, answer))))


def test_each_question_shows_its_short_label_and_its_share_and_the_legend_says_how_to_read_it():
    d = drawn(SEED)
    source = dot(d.plan, d.catalog).source

    def say(key: str, **params) -> str:
        return d.catalog.render(line(key, **params))

    root = f'{d.plan.root.id} [label="{say("short.nir")}\\n{say("graph.share", value="100,0")}"'
    assert root in source
    for node in d.plan.nodes:
        if node.question is not None:
            criterion = d.flow.criterion(node.question)
            assert f'{node.id} [label="{say(criterion.short or criterion.label)}\\n' in source
    for key in ("graph.legend.unsure", "graph.legend.folded", "graph.legend.answers"):
        assert say(key) in source
    assert say("graph.gate", item=say("short.nir")) in source
    assert say("graph.tiny") in source


def node_ids(source: str) -> set[str]:
    """The nodes a DOT source declares (its `graph`, `node` and `edge` defaults aside)."""
    declared = set(re.findall(r"^\t(\w+) \[", source, flags=re.MULTILINE))
    return declared - {"graph", "node", "edge"}


@pytest.mark.parametrize("path", FLOWS, ids=flow_ids)
def test_the_committed_drawing_matches_its_flow(path, tmp_path, capsys):
    fresh = tmp_path / f"{path.stem}.dot"
    assert main(["graph", "--flow", str(path), "-o", str(fresh)]) == 0
    committed = DRAWINGS / f"{path.stem}.dot"
    assert committed.exists(), f"no {committed.relative_to(ROOT)}: run `make graph`"
    assert fresh.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8"), (
        f"{committed.relative_to(ROOT)} no longer matches {path.name}: run `make graph`")
    picture = ET.parse(DRAWINGS / f"{path.stem}.svg")
    svg = "{http://www.w3.org/2000/svg}"
    titles = {g.findtext(f"{svg}title") for g in picture.iter(f"{svg}g") if g.get("class") == "node"}
    assert titles == node_ids(committed.read_text(encoding="utf-8")), "the picture is not its DOT: make graph"


def test_ivr_graph_writes_svg_png_and_dot_as_asked(tmp_path, capsys):
    assert main(["graph", "--flow", str(SEED), "--format", "svg", "-o", str(tmp_path / "plan")]) == 0
    assert b"<svg" in (tmp_path / "plan").read_bytes()
    assert main(["graph", "--flow", str(SEED), "-o", str(tmp_path / "plan.png")]) == 0
    assert (tmp_path / "plan.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert main(["graph", "--flow", str(SEED), "--format", "dot"]) == 0
    out = capsys.readouterr()
    assert out.out == (DRAWINGS / "franceconnect-seed.dot").read_text(encoding="utf-8")
    plan = drawn(SEED).plan
    asked = sum(1 for node in plan.nodes if node.question is not None)
    assert f"{asked} question nodes, {len(plan.nodes) - asked} endings" in out.err


def test_a_broken_flow_gives_the_same_error_as_ivr_check(tmp_path, capsys):
    broken = tmp_path / "flow.yaml"
    broken.write_text("id: x\nversion: 0\n", encoding="utf-8")
    assert main(["check", "--flow", str(broken)]) == 2
    checked = capsys.readouterr().err
    assert main(["graph", "--flow", str(broken), "-o", str(tmp_path / "plan.svg")]) == 2
    assert capsys.readouterr().err == checked
    assert "flow.yaml: version: " in checked
    assert not (tmp_path / "plan.svg").exists()


def test_a_missing_word_of_the_drawing_stops_ivr_check_and_ivr_graph_alike(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "fr"
    shutil.copytree(PROMPTS, folder)
    words = yaml.safe_load((folder / "graph.yaml").read_text(encoding="utf-8"))
    del words["graph"]["legend"]["unsure"]
    (folder / "graph.yaml").write_text(yaml.safe_dump(words, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("IVR_PROMPTS", str(folder))
    assert main(["check"]) == 2
    checked = capsys.readouterr().err
    assert "graph.legend.unsure" in checked and str(folder) in checked
    assert main(["graph", "--format", "dot"]) == 2
    assert capsys.readouterr().err == checked


def test_without_graphviz_ivr_graph_says_what_to_install_and_still_writes_dot(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["graph", "--flow", str(SEED), "-o", str(tmp_path / "plan.svg")]) == 2
    assert "apt-get install graphviz" in capsys.readouterr().err
    assert main(["graph", "--flow", str(SEED), "-o", str(tmp_path / "plan.dot")]) == 0
    assert (tmp_path / "plan.dot").read_bytes() == (DRAWINGS / "franceconnect-seed.dot").read_bytes()


def test_a_drawing_that_cannot_be_written_is_named(tmp_path, capsys):
    assert main(["graph", "--flow", str(SEED), "-o", str(tmp_path / "nowhere" / "plan.dot")]) == 2
    assert "nowhere/plan.dot: a file the drawing can be written to" in capsys.readouterr().err


def test_a_caller_every_provider_excludes_ends_with_no_account_and_no_closest_one():
    rows = [{"id": cid, "prompt": f"q.{cid}", "help": f"h.{cid}", "label": f"l.{cid}", "prior": 0.5}
            for cid in ("a", "b", "x")]
    flow = Flow.model_validate({
        "id": "closed", "version": 1, "criteria": rows, "steps": ["s"],
        "providers": [{"id": f"p{i}", "name": f"n.p{i}", "site": f"p{i}.fr", "criteria": [cid]}
                      for i, cid in enumerate(("a", "b"))],
        "exclusions": [{"if": "x", "excludes": "p0"}, {"if": "x", "excludes": "p1"}],
    })
    plan = build(flow, FewestSeconds(flow, {c.id: 1.0 for c in flow.criteria}))
    found = {frozenset(w[0] for w in ways): node.ending for node, ways in paths(plan)}
    assert Ending() in found.values()
    for node, ways in paths(plan):
        for answers in ways:
            known = dict(answers)
            if known.get("x"):
                assert node.ending == Ending(), answers
            elif not known.get("a") and not known.get("b"):
                assert node.ending is not None and node.ending.closest in ("p0", "p1"), answers


def paths(plan: Plan) -> list[tuple[Node, list[tuple[tuple[str, bool], ...]]]]:
    """Each ending of a plan, with the answers of every path that leads there."""
    found: dict[str, list[tuple[tuple[str, bool], ...]]] = defaultdict(list)
    stack: list[tuple[Node, tuple[tuple[str, bool], ...]]] = [(plan.root, ())]
    while stack:
        node, answers = stack.pop()
        if node.question is None:
            found[node.id].append(answers)
            continue
        for answer in (True, False):
            stack.append((plan.by_id[node.after(answer)], (*answers, (node.question, answer))))
    return [(plan.by_id[nid], ways) for nid, ways in found.items()]


def test_a_flow_with_too_many_answer_states_to_draw_is_refused_naming_the_flow(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("ivr.graph.plan.MAX_STATES", 50)
    assert main(["graph", "--flow", str(SEED), "-o", str(tmp_path / "plan.svg")]) == 2
    assert "flow franceconnect_seed: more than 50 answer states, too many to draw" in capsys.readouterr().err
    assert not (tmp_path / "plan.svg").exists()
