"""A plan as a Graphviz drawing: its DOT source, laid out by Graphviz into SVG or PNG.

Every word comes from the prompt catalog (`graph.*`, the criteria's `short` or `label`), every
figure is formatted here the same way each time, and nodes and edges are written in the plan's
order: the same flow always gives the same DOT source, byte for byte.
"""

from __future__ import annotations

import graphviz

from ivr.engine.reply import line
from ivr.errors import GraphError
from ivr.flow import Flow
from ivr.graph.observed import Observation
from ivr.graph.plan import Ending, Node, Plan, Shares
from ivr.prompts import Catalog

FORMATS = ("svg", "png", "dot")

# Every prompt a drawing uses, with the placeholders it fills in; checked at start-up (ivr.content).
PROMPTS: dict[str, frozenset[str]] = {
    key: frozenset(names)
    for key, names in {
        "graph.title": ("flow", "version"),
        "graph.average": ("count",),
        "graph.share": ("value",),
        "graph.tiny": (),
        "graph.answer_yes": (),
        "graph.answer_no": (),
        "graph.none": (),
        "graph.closest": ("provider",),
        "graph.unreachable": (),
        "graph.gate": ("item",),
        "graph.average_observed": ("count",),
        "graph.compare": ("expected", "observed"),
        "graph.hung_up": ("share",),
        "graph.unobserved": (),
        "graph.branch": ("answer", "share"),
        "graph.legend.reach": (),
        "graph.legend.answers": (),
        "graph.legend.unsure": (),
        "graph.legend.width": (),
        "graph.legend.folded": (),
        "graph.legend.endings": (),
        "graph.legend.priors": (),
        "graph.legend.observed": ("calls",),
    }.items()
}

# The State's design system colours (DSFR): blue France for questions, green for « oui », red
# for « non », and the success, warning and grey backgrounds for endings.
BLUE, GREEN, RED, GREY = "#000091", "#18753c", "#ce0500", "#666666"
USABLE, NONE, GATE, QUESTION, LEGEND = "#b8fec9", "#ffe9e6", "#eeeeee", "#f5f5fe", "#ffffff"
FONT = "Helvetica,Arial,sans-serif"


def dot(plan: Plan, catalog: Catalog, observation: Observation | None = None) -> graphviz.Digraph:
    """The drawing of a plan: a node per question and ending, an edge per answer, a legend.

    With an observation, each node shows the expected and the observed share side by side, and
    edges are as thick as the observed share of callers on them.
    """
    words = _Words(catalog, plan.flow)
    title = words.say("graph.title", flow=plan.flow.id, version=str(plan.flow.version))
    graph = graphviz.Digraph(
        name=plan.flow.id,
        graph_attr={"rankdir": "LR", "nodesep": "0.12", "ranksep": "0.35", "fontname": FONT,
                    "fontsize": "16", "labelloc": "t", "labeljust": "l", "label": title},
        node_attr={"fontname": FONT, "fontsize": "10", "margin": "0.08,0.04"},
        edge_attr={"fontname": FONT, "fontsize": "9", "arrowsize": "0.6"},
    )
    graph.node("legend", _legend(plan, words, observation), shape="note", style="filled",
               fillcolor=LEGEND, color=GREY)
    for node in plan.nodes:
        _node(graph, words, plan, node, observation)
    with graph.subgraph() as top:
        # The legend in the first column, beside the first question.
        top.attr(rank="min")
        top.node("legend")
        top.node(plan.root.id)
    shown = observation.shares if observation else plan.expected
    for node in plan.nodes:
        if node.question is not None:
            for answer in (True, False):
                _edge(graph, words, node, answer, shown)
    return graph


def render(graph: graphviz.Digraph, fmt: str) -> bytes:
    """The drawing in this format: DOT source as is, SVG or PNG laid out by Graphviz's `dot`."""
    if fmt == "dot":
        return graph.source.encode("utf-8")
    try:
        return graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound as exc:
        raise GraphError(
            f"a {fmt} drawing needs Graphviz's `dot` program (Debian: apt-get install graphviz); "
            "--format dot needs nothing"
        ) from exc


class _Words:
    """The catalog's words, and shares written the French way (« 12,5 % »)."""

    def __init__(self, catalog: Catalog, flow: Flow) -> None:
        self.catalog, self.flow = catalog, flow

    def say(self, key: str, **params: str) -> str:
        return self.catalog.render(line(key, **params))

    def item(self, cid: str) -> str:
        """A criterion in a few words: its `short` prompt, else its label."""
        criterion = self.flow.criterion(cid)
        return self.say(criterion.short or criterion.label)

    def share(self, value: float) -> str:
        if 0.0 < value < 0.0005:
            return self.say("graph.tiny")
        return self.say("graph.share", value=_decimal(100.0 * value, 1))


def _decimal(value: float, places: int) -> str:
    """A number written the French way, with a decimal comma."""
    return f"{value:.{places}f}".replace(".", ",")


def _node(graph: graphviz.Digraph, words: _Words, plan: Plan, node: Node,
          observation: Observation | None) -> None:
    expected = words.share(plan.expected.nodes[node.id])
    if observation is None:
        figures = [expected]
    else:
        figures = [words.say("graph.compare", expected=expected,
                             observed=words.share(observation.shares.nodes[node.id]))]
    if node.question is None:
        assert node.ending is not None
        text, fill = _ending(plan.flow, words, node.ending)
        graph.node(node.id, _label([*text, *figures]), shape="box", style="filled", fillcolor=fill,
                   color=GREY)
        return
    if observation is not None:
        gone = observation.shares.hung_up[node.id]
        if gone > 0:
            figures.append(words.say("graph.hung_up", share=words.share(gone)))
        if node.question in observation.unobserved:
            figures.append(words.say("graph.unobserved"))
    # The tooltip (SVG) is the question as the caller hears it.
    graph.node(node.id, _label([words.item(node.question), *figures]), shape="box", style="rounded,filled",
               fillcolor=QUESTION, color=BLUE, tooltip=words.say(plan.flow.criterion(node.question).prompt))


def _ending(flow: Flow, words: _Words, ending: Ending) -> tuple[list[str], str]:
    """The lines of an ending, and its colour: the accounts' sites, or none and the closest one."""
    if ending.gate is not None:
        return [words.say("graph.none"), words.say("graph.gate", item=words.item(ending.gate))], GATE
    sites = {p.id: p.site for p in flow.providers}
    if ending.usable:
        # Two sites a line: an ending stays short, and the last column of the drawing narrow enough.
        names = [sites[pid] for pid in ending.usable]
        return [", ".join(names[k:k + 2]) for k in range(0, len(names), 2)], USABLE
    if ending.closest is None:
        return [words.say("graph.none"), words.say("graph.unreachable")], NONE
    return [words.say("graph.none"), words.say("graph.closest", provider=sites[ending.closest])], NONE


def _legend(plan: Plan, words: _Words, observation: Observation | None) -> str:
    keys = ["graph.legend.reach", "graph.legend.answers", "graph.legend.unsure", "graph.legend.width",
            "graph.legend.folded", "graph.legend.endings", "graph.legend.priors"]
    lines = [words.say(key) for key in keys]
    lines.append(words.say("graph.average", count=_decimal(plan.questions(plan.expected), 2)))
    if observation is not None:
        lines.append(words.say("graph.legend.observed", calls=str(observation.calls)))
        heard = plan.questions(observation.shares)
        lines.append(words.say("graph.average_observed", count=_decimal(heard, 2)))
    return "".join(_escape(text) + "\\l" for text in lines)


def _edge(graph: graphviz.Digraph, words: _Words, node: Node, answer: bool, shares: Shares) -> None:
    share = shares.branches[node.id, answer]
    said = words.say("graph.answer_yes" if answer else "graph.answer_no")
    target = node.after(answer)
    assert target is not None
    colour = GREEN if answer else RED
    tooltip = words.say("graph.branch", answer=said, share=words.share(share))
    graph.edge(node.id, target, label=said, tooltip=tooltip, color=colour, fontcolor=colour,
               style="solid" if answer else "dashed",
               # As thick as the share of callers on it: where most callers go stands out.
               penwidth=f"{0.6 + 5.0 * share:.1f}")


def _label(lines: list[str]) -> str:
    """Centred lines of a node's label."""
    return "\\n".join(_escape(text) for text in lines)


def _escape(text: str) -> str:
    """Text as DOT shows it: a backslash is an escape there, so the catalog's text gets none."""
    return text.replace("\\", "\\\\")
