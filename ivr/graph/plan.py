"""The plan a call follows, asked of the app's own planner at every answer state a call can reach.

A state is what is known so far: the answers, with the implications they trigger
(ivr.engine.rules.infer). At each state the planner names its next question; a state where it
names none is an ending: the accounts usable, or none and the closest one, or a failed gate.

The tree of those states folds into a DAG: two subtrees that ask the same question and whose
« oui » and « non » lead to identical subtrees, or two identical endings, are one node. So every
path of the drawing is a real call and every ending tells the truth, while repeated parts are
drawn once. (Folding by the planner's state key would not do: it joins calls that already
differ in what they won, so an ending could no longer say which accounts are usable.)

Shares come from an answer model: at each state, the chance of « oui » to the question asked
and the chance the caller hangs up there. The expected shares use the planner's own model
(ivr.engine.odds through Board.p_yes), where nobody hangs up; observed ones come from the
journal (ivr.graph.observed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

from ivr.engine.board import Board
from ivr.engine.planner import Planner
from ivr.engine.rules import Known, closest, infer, judge
from ivr.errors import GraphError
from ivr.flow import Flow

# More answer states than this cannot make a drawing anyone reads (the shipped flows have a few
# hundred); the bound stops a runaway walk on a huge greedy-planned flow with a clear message.
MAX_STATES = 50_000

# (chance of « oui », chance of hanging up) when `question` is asked at the state `known`.
Odds = Callable[[str, Known], tuple[float, float]]


@dataclass(frozen=True)
class Ending:
    """How a call ends: the usable accounts, else none with the closest one, or a failed gate.

    With no account usable and none reachable (every provider excluded), `closest` is None too:
    the line then names no provider, only the ways that do not need one.
    """

    usable: tuple[str, ...] = ()
    closest: str | None = None
    gate: str | None = None


@dataclass(frozen=True)
class Node:
    """A question with the node each answer leads to, or an ending."""

    id: str
    question: str | None = None
    yes: str | None = None
    no: str | None = None
    ending: Ending | None = None

    def after(self, answer: bool) -> str | None:
        """The node this answer leads to (None at an ending)."""
        return self.yes if answer else self.no


@dataclass(frozen=True)
class Shares:
    """Shares of all callers: reaching each node, taking each answer there, hanging up there."""

    nodes: Mapping[str, float]
    branches: Mapping[tuple[str, bool], float]
    hung_up: Mapping[str, float]


@dataclass(frozen=True)
class _State:
    known: Known
    node: str
    question: str | None
    yes: int | None
    no: int | None


class Plan:
    """The folded plan of one flow: its nodes, root first, and the answer states they stand for."""

    def __init__(self, flow: Flow, nodes: tuple[Node, ...], states: tuple[_State, ...]) -> None:
        self.flow = flow
        self.nodes = nodes
        self.by_id = {node.id: node for node in nodes}
        # Children before parents: reversed, an order where every state comes after its parents.
        self._states = states

    @property
    def root(self) -> Node:
        return self.nodes[0]

    @property
    def states(self) -> int:
        """How many distinct answer states the plan passes through."""
        return len(self._states)

    @cached_property
    def unfolded(self) -> int:
        """How many nodes the plan would have as a plain tree, nothing folded."""
        size: list[int] = []
        for state in self._states:
            below = 0 if state.yes is None or state.no is None else size[state.yes] + size[state.no]
            size.append(1 + below)
        return size[-1]

    @cached_property
    def expected(self) -> Shares:
        """The shares under the planner's answer model and the flow's priors."""
        return self.shares(expected_odds(self.flow))

    def shares(self, odds: Odds) -> Shares:
        """The shares of callers under this answer model, from the first question down."""
        reach = [0.0] * len(self._states)
        reach[-1] = 1.0
        nodes: dict[str, float] = defaultdict(float)
        branches: dict[tuple[str, bool], float] = defaultdict(float)
        hung_up: dict[str, float] = defaultdict(float)
        for k in reversed(range(len(self._states))):
            state, share = self._states[k], reach[k]
            nodes[state.node] += share
            if state.question is None or state.yes is None or state.no is None:
                continue
            p_yes, p_gone = odds(state.question, state.known)
            stay = share * (1.0 - p_gone)
            reach[state.yes] += stay * p_yes
            reach[state.no] += stay * (1.0 - p_yes)
            branches[state.node, True] += stay * p_yes
            branches[state.node, False] += stay * (1.0 - p_yes)
            hung_up[state.node] += share * p_gone
        # Plan order, so that whatever is drawn from the shares comes out in the same order each time.
        asked = [node.id for node in self.nodes if node.question is not None]
        return Shares(
            nodes={node.id: nodes[node.id] for node in self.nodes},
            branches={(nid, answer): branches[nid, answer] for nid in asked for answer in (True, False)},
            hung_up={nid: hung_up[nid] for nid in asked},
        )

    def questions(self, shares: Shares) -> float:
        """The mean number of questions a caller hears under these shares."""
        return sum(shares.nodes[node.id] for node in self.nodes if node.question is not None)


def expected_odds(flow: Flow) -> Odds:
    """The planner's answer model: P(oui | what is known) from the priors; nobody hangs up."""
    board = Board(flow)

    def odds(question: str, known: Known) -> tuple[float, float]:
        yes, no = board.state(known)
        return board.p_yes(flow.index(question), yes, no), 0.0

    return odds


def ending(flow: Flow, known: Known) -> Ending:
    """How a call with these known values ends, by the engine's own rules."""
    verdict = judge(flow, known)
    if verdict.gate_failed is not None:
        return Ending(gate=verdict.gate_failed)
    if verdict.eligible:
        return Ending(usable=tuple(p.id for p in verdict.eligible))
    near = closest(flow, known)
    return Ending(closest=None if near is None else near.id)


def build(flow: Flow, planner: Planner) -> Plan:
    """Ask the planner its question at every reachable answer state; fold identical subtrees."""
    # A node is numbered by its signature: ("end", ending) or ("ask", question, yes node, no node).
    signatures: dict[tuple[object, ...], int] = {}
    kinds: list[tuple[object, ...]] = []
    # Answer states, children before parents: (known, node number, question, yes state, no state).
    rows: list[tuple[Known, int, str | None, int | None, int | None]] = []
    seen: dict[frozenset[tuple[str, bool]], int] = {}

    def visit(known: dict[str, bool]) -> int:
        key = frozenset(known.items())
        if key in seen:
            return seen[key]
        if len(seen) >= MAX_STATES:
            raise GraphError(f"flow {flow.id}: more than {MAX_STATES} answer states, too many to draw")
        question = planner.next_question(known)
        yes = no = None
        if question is None:
            signature: tuple[object, ...] = ("end", ending(flow, known))
        else:
            yes = visit(infer(flow, [*known.items(), (question, True)]))
            no = visit(infer(flow, [*known.items(), (question, False)]))
            signature = ("ask", question, rows[yes][1], rows[no][1])
        if signature not in signatures:
            signatures[signature] = len(kinds)
            kinds.append(signature)
        seen[key] = len(rows)
        rows.append((known, signatures[signature], question, yes, no))
        return seen[key]

    root = rows[visit({})][1]
    names = _names(root, kinds)
    nodes = []
    for number, name in names.items():
        kind = kinds[number]
        if kind[0] == "end":
            assert isinstance(kind[1], Ending)
            nodes.append(Node(name, ending=kind[1]))
        else:
            question, yes_node, no_node = kind[1:]
            assert isinstance(question, str) and isinstance(yes_node, int) and isinstance(no_node, int)
            nodes.append(Node(name, question=question, yes=names[yes_node], no=names[no_node]))
    states = tuple(_State(known, names[n], question, yes, no) for known, n, question, yes, no in rows)
    return Plan(flow, tuple(nodes), states)


def _names(root: int, kinds: list[tuple[object, ...]]) -> dict[int, str]:
    """Stable ids, in the order a reader meets the nodes: depth first from the root, « oui » first.

    A question's node is named after its criterion and numbered among that criterion's nodes
    (`carte_vitale_2`), an ending `end_<n>`: a small change to a flow changes few ids.
    """
    names: dict[int, str] = {}
    count: dict[str, int] = defaultdict(int)
    stack = [root]
    while stack:
        number = stack.pop()
        if number in names:
            continue
        kind = kinds[number]
        base = str(kind[1]) if kind[0] == "ask" else "end"
        count[base] += 1
        names[number] = f"{base}_{count[base]}"
        if kind[0] == "ask":
            stack.extend((kind[3], kind[2]))
    return names
