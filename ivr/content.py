"""Load a flow and its prompts together, and refuse any mismatch before the first call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ivr.engine.intents import FILLER, SPOKEN
from ivr.engine.prompt_keys import PROMPTS
from ivr.errors import ContentError
from ivr.flow import Flow, load_flow
from ivr.graph.draw import PROMPTS as DRAWING
from ivr.prompts import VOCABULARY_FILE, Catalog, load_catalog
from ivr.sms.message import check_length


@dataclass(frozen=True)
class Content:
    flow: Flow
    catalog: Catalog


def load_content(flow_path: str | Path, prompts_folder: str | Path) -> Content:
    """The flow and the catalogue, every cross-reference checked."""
    flow = load_flow(flow_path)
    catalog = load_catalog(prompts_folder)
    for field, key in flow.prompt_keys():
        if key not in catalog.texts:
            raise ContentError(flow_path, field, f"a prompt key defined in {prompts_folder} (no '{key}')")
        catalog.require({key: frozenset()}, str(flow_path))
    catalog.require(PROMPTS, str(Path(prompts_folder)))
    # The words of the plan's drawing (`ivr graph`): a content editor's `ivr check` covers them too.
    catalog.require(DRAWING, str(Path(prompts_folder)))
    vocabulary = Path(prompts_folder) / VOCABULARY_FILE
    wanted = {intent.value for intent in SPOKEN}
    for intent in catalog.vocabulary:
        if intent not in wanted | {FILLER}:
            raise ContentError(vocabulary, intent, f"one of {', '.join(sorted(wanted | {FILLER}))}")
    missing = sorted(wanted - set(catalog.vocabulary))
    if missing:
        raise ContentError(vocabulary, missing[0], "a list of phrases for this intent")
    check_length(flow, catalog, catalog.sources["sms.message.steps"])
    return Content(flow, catalog)
