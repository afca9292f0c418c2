"""Every path of every flow's call, walked answer by answer, ends with a fully decided result."""

from __future__ import annotations

import pytest

from ivr.app import create_app
from ivr.engine.reply import line
from ivr.phone import Phone, flask_transport
from tests.caller import fork, question_asked
from tests.conftest import AUTH_TOKEN, FLOWS


def closure(flow, answers: dict[str, bool]) -> dict[str, bool]:
    """The answers plus what the flow's implications force, restated here independently."""
    known = dict(answers)
    for _ in flow.implications:
        for rule in flow.implications:
            if known.get(rule.if_):
                known[rule.then] = True
            if known.get(rule.then) is False:
                known[rule.if_] = False
    return known


@pytest.mark.parametrize("flow_path", FLOWS, ids=lambda p: p.name)
def test_every_path_of_the_call_decides_every_provider_and_names_the_eligible(flow_path):
    app = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_FLOW": str(flow_path)})
    service = app.extensions["ivr"]
    flow, catalog = service.call.flow, service.renderer.catalog
    result_marker = catalog.render(line("result.repeat"))
    start = Phone(flask_transport(app.test_client()), auth_token=AUTH_TOKEN)
    start.dial()
    start.press("1")
    leaves, longest = 0, 0
    pending = [(start, {})]
    while pending:
        phone, answers = pending.pop()
        heard = " ".join(phone.heard)
        if result_marker in heard:
            leaves += 1
            longest = max(longest, len(answers))
            check_result(flow, catalog, closure(flow, answers), heard)
            continue
        cid = question_asked(flow, catalog, heard)
        assert cid not in closure(flow, answers), f"{cid} asked although known from {answers}"
        for value in (True, False):
            branch = fork(phone)
            branch.press("1" if value else "2")
            pending.append((branch, {**answers, cid: value}))
    assert leaves > len(flow.providers)
    assert longest <= len(flow.criteria)


def check_result(flow, catalog, known, heard):
    failed_gate = next((c for c in flow.criteria if c.gate and known.get(c.id) is False), None)
    if failed_gate is not None:
        assert catalog.render(line("result.gate_failed", item=line(failed_gate.label))) in heard
        return
    eligible = [p for p in flow.providers if all(known.get(c) is True for c in p.criteria)]
    for provider in flow.providers:
        if provider not in eligible:
            assert any(known.get(c) is False for c in provider.criteria), (provider.id, known)
    if eligible:
        names = tuple(line(p.name) for p in eligible)
        assert catalog.render(line("result.eligible", providers=names)) in heard, (known, heard)
    else:
        assert catalog.render(line("result.none")) in heard, (known, heard)
