"""Every answer profile of the seed flow ends with exactly the providers its answers allow."""

from __future__ import annotations

import pytest

from ivr.app import create_app
from ivr.config import ROOT
from ivr.engine.reply import line
from ivr.phone import Phone, flask_transport
from tests.caller import answer_all, consistent_profiles, eligible
from tests.conftest import AUTH_TOKEN


# Exhaustive over profiles for the seed flow (4,608 callers); test_decision_tree.py walks every
# path of every flow, which covers larger flows where profiles would be too many.
@pytest.mark.parametrize("flow_path", [ROOT / "flows" / "franceconnect-seed.yaml"], ids=lambda p: p.name)
def test_every_profile_hears_exactly_its_eligible_providers(flow_path):
    app = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_FLOW": str(flow_path)})
    service = app.extensions["ivr"]
    flow, catalog = service.call.flow, service.renderer.catalog
    client = app.test_client()
    steps = [catalog.render(line(key)) for key in flow.steps]
    names = {p.id: line(p.name) for p in flow.providers}
    checked = 0
    for profile in consistent_profiles(flow):
        phone = Phone(flask_transport(client), auth_token=AUTH_TOKEN)
        phone.dial()
        phone.press("1")
        answer_all(phone, flow, catalog, profile)
        heard = " ".join(phone.heard)
        expected = eligible(flow, profile)
        gate = next((c for c in flow.criteria if c.gate and not profile[c.id]), None)
        if expected:
            sentence = line("result.eligible", providers=tuple(names[p] for p in expected))
            assert catalog.render(sentence) in heard, (profile, heard)
            assert all(heard.count(step) == 1 for step in steps), heard
            # Each usable account's details, in turn with key 3: its caution only with it.
            for turn, pid in enumerate(expected):
                if turn:
                    heard = " ".join(phone.press("3"))
                    assert catalog.render(line("result.next", provider=names[pid])) in heard
                for provider in flow.providers:
                    if provider.caution:
                        said = catalog.render(line(provider.caution)) in heard
                        assert said == (provider.id == pid), heard
        elif gate is not None:
            assert catalog.render(line("result.gate_failed", item=line(gate.label))) in heard
        else:
            assert catalog.render(line("result.none")) in heard, (profile, heard)
            assert not any(step in heard for step in steps)
        checked += 1
    assert checked >= 2 ** (len(flow.criteria) - len(flow.implications) - 1)
