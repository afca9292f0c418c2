"""A « oui » that excludes a provider: never offered, never named the closest; the 2026 flow's MSA rule."""

from __future__ import annotations

import pytest
import yaml

from ivr.app import create_app
from ivr.engine.reply import line
from ivr.phone import Phone, flask_transport
from tests.caller import closure, walk
from tests.conftest import AUTH_TOKEN, CURRENT, spoken


def test_a_caller_with_the_msa_is_never_offered_ameli_on_any_path_of_the_2026_flow():
    app = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_FLOW": str(CURRENT)})
    service = app.extensions["ivr"]
    flow, catalog = service.call.flow, service.renderer.catalog
    assert [(r.if_, r.excludes) for r in flow.exclusions] == [("affiliation_msa", "ameli")]
    ameli = flow.providers[[p.id for p in flow.providers].index("ameli")]
    name, caution = catalog.render(line(ameli.name)), catalog.render(line(ameli.caution))
    start = Phone(flask_transport(app.test_client()), auth_token=AUTH_TOKEN)
    start.dial()
    start.press("1")
    members = offered = 0
    for answers, heard in walk(start, flow, catalog):
        known = closure(flow, dict(answers))
        if known.get("affiliation_msa"):
            members += 1
            assert name not in heard and caution not in heard, answers
            assert catalog.render(line("provider.msa")) in heard
        elif known.get("nir") and all(known.get(c) for c in ameli.criteria):
            offered += 1
            assert name in heard, answers
    assert members and offered


def test_a_caller_with_every_ameli_paper_and_the_msa_is_offered_the_msa_account_not_ameli(say):
    heard = transferred(str(CURRENT), "nir=1&secu=1&vitale=1&rib=1&email=1&msa=1&avis=0&piece=0&sms=0")
    assert say("result.eligible", providers=(line("provider.msa"),)) in heard
    assert say("provider.ameli") not in heard
    assert say("caution.ameli_regimes") not in heard


@pytest.fixture
def flow_file(tmp_path):
    """Write a variant of the 2026 flow and return its path."""

    def write(edit) -> str:
        data = yaml.safe_load(CURRENT.read_text(encoding="utf-8"))
        edit(data)
        path = tmp_path / "variant.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return str(path)

    return write


def transferred(path: str, query: str) -> str:
    """What a caller sent by a helpline with these known answers hears first."""
    app = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_FLOW": path})
    phone = Phone(flask_transport(app.test_client()), auth_token=AUTH_TOKEN)
    phone.dial(f"/voice/transfer?{query}")
    return spoken(phone)


def test_an_excluded_provider_is_never_named_the_closest(flow_file, say):
    # Without the MSA's own account, an MSA member with every ameli paper has no account; ameli,
    # with no « non », would be the closest, but the MSA rule keeps it out of reach: impots.gouv.fr
    # (two « oui », one « non ») is named, with the déclaration de revenus missing.
    path = flow_file(lambda d: d.update(providers=[p for p in d["providers"] if p["id"] != "msa"]))
    heard = transferred(path, "nir=1&secu=1&vitale=1&rib=1&email=1&msa=1&avis=1&declaration=0&piece=0&sms=0")
    assert say("result.none") in heard
    assert say("result.closest", provider=line("provider.impots")) in heard
    assert say("result.missing", item=line("label.declaration_revenus")) in heard
    assert say("provider.ameli") not in heard


def test_a_caller_every_provider_excludes_hears_the_way_without_internet_and_no_closest_provider(
    flow_file, say
):
    path = flow_file(lambda d: d.update(providers=[p for p in d["providers"] if p["id"] == "ameli"]))
    heard = transferred(path, "nir=1&secu=1&vitale=1&rib=1&email=1&msa=1")
    assert say("result.none") in heard
    assert say("result.closest", provider=line("provider.ameli")) not in heard
    assert say("provider.ameli") not in heard
    assert say("help.france_services") in heard
