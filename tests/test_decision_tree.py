"""Every path of every flow's call, walked answer by answer, ends with a fully decided result."""

from __future__ import annotations

import pytest

from ivr.app import create_app
from ivr.engine.reply import line
from ivr.phone import Phone, flask_transport
from tests.caller import closure, walk
from tests.conftest import AUTH_TOKEN, FLOWS


@pytest.mark.parametrize("flow_path", FLOWS, ids=lambda p: p.name)
def test_every_path_of_the_call_decides_every_provider_and_names_the_eligible(flow_path):
    app = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_FLOW": str(flow_path)})
    service = app.extensions["ivr"]
    flow, catalog = service.call.flow, service.renderer.catalog
    start = Phone(flask_transport(app.test_client()), auth_token=AUTH_TOKEN)
    start.dial()
    start.press("1")
    leaves, longest = 0, 0
    for answers, heard in walk(start, flow, catalog):
        leaves += 1
        longest = max(longest, len(answers))
        for k, (cid, _) in enumerate(answers):
            before = dict(answers[:k])
            assert cid not in closure(flow, before), f"{cid} asked although known from {before}"
        check_result(flow, catalog, closure(flow, dict(answers)), heard)
    assert leaves > len(flow.providers)
    assert longest <= len(flow.criteria)


def check_result(flow, catalog, known, heard):
    failed_gate = next((c for c in flow.criteria if c.gate and known.get(c.id) is False), None)
    if failed_gate is not None:
        assert catalog.render(line("result.gate_failed", item=line(failed_gate.label))) in heard
        return
    def excluding(p):
        return [r.if_ for r in flow.exclusions if r.excludes == p.id]

    eligible = [
        p for p in flow.providers
        if all(known.get(c) is True for c in p.criteria) and all(known.get(c) is False for c in excluding(p))
    ]
    for provider in flow.providers:
        if provider not in eligible:
            lost = any(known.get(c) is False for c in provider.criteria)
            assert lost or any(known.get(c) is True for c in excluding(provider)), (provider.id, known)
    if eligible:
        names = tuple(line(p.name) for p in eligible)
        assert catalog.render(line("result.eligible", providers=names)) in heard, (known, heard)
    else:
        assert catalog.render(line("result.none")) in heard, (known, heard)
