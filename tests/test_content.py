"""Flow and prompt files: every shipped file loads; a broken one stops start-up with a clear message."""

from __future__ import annotations

import shutil

import pytest
import yaml

from ivr.app import create_app
from ivr.config import ROOT
from ivr.content import load_content
from ivr.engine.reply import PhoneNumber, line
from ivr.errors import ConfigError, ContentError
from ivr.prompts import load_catalog
from tests.conftest import FLOWS

PROMPTS = ROOT / "prompts" / "fr"
SEED = ROOT / "flows" / "franceconnect-seed.yaml"


@pytest.mark.parametrize("flow_path", FLOWS, ids=lambda p: p.name)
def test_every_flow_file_loads_with_the_french_prompts(flow_path):
    content = load_content(flow_path, PROMPTS)
    assert content.flow.providers
    assert create_app({"IVR_FLOW": str(flow_path)}).extensions["ivr"].call.flow == content.flow


def broken_flow(tmp_path, edit) -> str:
    data = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def set_in(data, path, value):
    *head, last = path
    for part in head:
        data = data[part]
    data[last] = value


FLOW_BREAKAGES = {
    "unknown criterion": (
        lambda d: d["providers"][1]["criteria"].append("permis_de_conduire"),
        ["broken.yaml", "providers[1].criteria[3]", "unknown criterion 'permis_de_conduire'"],
    ),
    "duplicate id": (
        lambda d: d["criteria"].append(dict(d["criteria"][1])),
        ["broken.yaml", "criteria", "duplicate id 'numero_fiscal'"],
    ),
    "missing prompt key": (
        lambda d: set_in(d, ["criteria", 2, "prompt"], "question.nulle_part"),
        ["broken.yaml", "criteria[2].prompt", "question.nulle_part"],
    ),
    "prior above 1": (
        lambda d: set_in(d, ["criteria", 3, "prior"], 1.5),
        ["broken.yaml", "criteria.3.prior", "less than or equal to 1"],
    ),
    "prior below 0": (
        lambda d: set_in(d, ["criteria", 3, "prior"], -0.1),
        ["broken.yaml", "criteria.3.prior", "greater than or equal to 0"],
    ),
    "provider with no criteria": (
        lambda d: set_in(d, ["providers", 4, "criteria"], []),
        ["broken.yaml", "providers.4.criteria", "at least 1 item"],
    ),
    "unknown field": (
        lambda d: set_in(d, ["providers", 0, "website"], "x"),
        ["broken.yaml", "providers.0.website", "Extra inputs are not permitted"],
    ),
    "implication to nowhere": (
        lambda d: d["implications"].append({"if": "nir", "then": "passeport"}),
        ["broken.yaml", "implications[2].then", "unknown criterion 'passeport'"],
    ),
    "exclusion of an unknown criterion": (
        lambda d: d.update(exclusions=[{"if": "mutuelle", "excludes": "ameli"}]),
        ["broken.yaml", "exclusions[0].if", "unknown criterion 'mutuelle'"],
    ),
    "exclusion of an unknown provider": (
        lambda d: d.update(exclusions=[{"if": "affiliation_msa", "excludes": "mgen"}]),
        ["broken.yaml", "exclusions[0].excludes", "unknown provider 'mgen'"],
    ),
    "exclusion by a gate": (
        lambda d: d.update(exclusions=[{"if": "nir", "excludes": "ameli"}]),
        ["broken.yaml", "exclusions[0].if", "a criterion other than a gate", "'ameli' could never be usable"],
    ),
    "exclusion by one of the provider's criteria": (
        lambda d: d.update(exclusions=[{"if": "carte_vitale", "excludes": "ameli"}]),
        ["broken.yaml", "exclusions[0].if", "a criterion that provider 'ameli' does not need",
         "'carte_vitale' is one of its criteria"],
    ),
    "exclusion implied by one of the provider's criteria": (
        lambda d: d.update(exclusions=[{"if": "piece_identite", "excludes": "laposte"}]),
        ["broken.yaml", "exclusions[0].if",
         "'piece_identite_fr', one of its criteria, implies 'piece_identite'"],
    ),
    "exclusion implied by a gate": (
        lambda d: d.update(exclusions=[{"if": "numero_secu", "excludes": "impots"}]),
        ["broken.yaml", "exclusions[0].if", "'nir', a gate every caller passes, implies 'numero_secu'"],
    ),
    "exclusion given twice": (
        lambda d: d.update(exclusions=[{"if": "affiliation_msa", "excludes": "ameli"}] * 2),
        ["broken.yaml", "exclusions[1]", "one exclusion per pair"],
    ),
    "exclusion with a then": (
        lambda d: d.update(exclusions=[{"if": "affiliation_msa", "then": "ameli"}]),
        ["broken.yaml", "exclusions.0.excludes", "Field required"],
    ),
    "missing steps": (
        lambda d: d.pop("steps"),
        ["broken.yaml", "steps", "Field required"],
    ),
}


@pytest.mark.parametrize("case", FLOW_BREAKAGES, ids=str)
def test_a_broken_flow_stops_start_up_naming_file_field_and_expectation(tmp_path, case):
    edit, fragments = FLOW_BREAKAGES[case]
    path = broken_flow(tmp_path, edit)
    with pytest.raises(ContentError) as error:
        create_app({"IVR_FLOW": path})
    for fragment in fragments:
        assert fragment in str(error.value)


def test_an_exclusion_whose_criterion_only_implies_one_the_provider_needs_is_accepted(tmp_path):
    # A valid French ID is an ID (piece_identite_fr implies piece_identite, which orange needs): a
    # caller without a French ID may still use orange, so excluding orange on a French ID is allowed.
    rule = {"if": "piece_identite_fr", "excludes": "orange"}
    path = broken_flow(tmp_path, lambda d: d.update(exclusions=[rule]))
    flow = create_app({"IVR_FLOW": path}).extensions["ivr"].call.flow
    assert flow.excluders("orange") == ("piece_identite_fr",)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("id: x\ncriteria: [\n", ["bad.yaml", "line", "valid YAML"]),
        ("- just\n- a list\n", ["bad.yaml", "file", "a mapping"]),
        ("", ["bad.yaml", "file", "a mapping"]),
    ],
    ids=["syntax error", "a list", "empty"],
)
def test_a_flow_that_is_not_yaml_stops_start_up(tmp_path, text, fragments):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as error:
        create_app({"IVR_FLOW": str(path)})
    for fragment in fragments:
        assert fragment in str(error.value)


def test_a_missing_flow_file_is_named(tmp_path):
    with pytest.raises(ContentError, match="nowhere.yaml: file: a readable flow file"):
        create_app({"IVR_FLOW": str(tmp_path / "nowhere.yaml")})


@pytest.fixture
def prompts(tmp_path):
    folder = tmp_path / "fr"
    shutil.copytree(PROMPTS, folder)
    return folder


def edit_prompts(folder, name, edit):
    path = folder / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "edit", "fragments"),
    [
        ("call.yaml", lambda d: d["ask"].pop("invalid"), ["ask.invalid", "a prompt with this key"]),
        (
            "call.yaml",
            lambda d: d["result"].update(eligible="Vous pouvez utiliser {fournisseurs}."),
            ["call.yaml", "result.eligible", "{providers}", "{fournisseurs}"],
        ),
        ("call.yaml", lambda d: d.update(goodbye=""), ["call.yaml", "goodbye", "a non-empty sentence"]),
        ("call.yaml", lambda d: d.update(goodbye="Au revoir {"), ["call.yaml", "goodbye", "balanced braces"]),
        ("franceconnect.yaml", lambda d: d.update(goodbye="Adieu."), ["goodbye", "not already defined"]),
        ("franceconnect.yaml", lambda d: d["question"].pop("smartphone"), ["question.smartphone"]),
        (
            "franceconnect.yaml",
            lambda d: d["label"].update(smartphone="un {objet}"),
            ["label.smartphone", "placeholders"],
        ),
        ("understand.yaml", lambda d: d.update(maybe=["bof"]), ["understand.yaml", "maybe", "one of"]),
        ("understand.yaml", lambda d: d.pop("back"), ["understand.yaml", "back", "a list of phrases"]),
        ("understand.yaml", lambda d: d.update(help="aide"), ["understand.yaml", "help", "a list"]),
    ],
    ids=[
        "missing engine prompt",
        "wrong placeholder",
        "empty sentence",
        "unbalanced brace",
        "duplicate key across files",
        "missing flow prompt",
        "placeholder in flow prompt",
        "unknown intent",
        "missing intent",
        "words not a list",
    ],
)
def test_a_broken_prompt_file_stops_start_up_with_a_clear_message(prompts, name, edit, fragments):
    edit_prompts(prompts, name, edit)
    with pytest.raises(ContentError) as error:
        create_app({"IVR_PROMPTS": str(prompts)})
    for fragment in fragments:
        assert fragment in str(error.value)


def test_bare_yes_and_no_keys_in_the_vocabulary_are_refused_with_a_hint_to_quote(prompts):
    path = prompts / "understand.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('"yes":', "yes:"), encoding="utf-8")
    with pytest.raises(ContentError, match='quote "yes" and "no"'):
        create_app({"IVR_PROMPTS": str(prompts)})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HELPLINE_NUMBER", "06 12 34 56 78"),
        ("IVR_SPEECH_RATE", "fast"),
        ("IVR_SPEECH_MIN_CONFIDENCE", "2"),
        ("IVR_INPUT_TIMEOUT", "0"),
        ("PUBLIC_BASE_URL", "ivr.example.fr"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(variable, value):
    with pytest.raises(ConfigError, match=variable):
        create_app({variable: value})


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("IVR_VOICE", "Polly.Remi-Neural")
    monkeypatch.setenv("IVR_SPEECH_RATE", "90%")
    app = create_app({"TWILIO_AUTH_TOKEN": ""})
    text = app.test_client().post("/voice").get_data(as_text=True)
    assert 'voice="Polly.Remi-Neural"' in text
    assert '<prosody rate="90%">' in text



@pytest.mark.parametrize(
    ("digits", "pairs"),
    [("0969399111", ["0 9", "69", "39", "91", "11"]), ("3646", ["36", "46"]), ("115", ["1", "15"])],
)
def test_a_phone_number_is_spoken_slowly_in_pairs_of_digits(digits, pairs):
    catalog = load_catalog(PROMPTS)
    words = [" ".join(catalog.texts[f"number.{int(part)}"] for part in pair.split()) for pair in pairs]
    expected = catalog.texts["list.separator"].join(words)
    assert catalog.render(line("result.closest", provider=PhoneNumber(digits))) == catalog.render(
        line("result.closest", provider=expected)
    )


def test_a_prompt_folder_without_every_number_word_stops_start_up(tmp_path):
    folder = tmp_path / "fr"
    shutil.copytree(PROMPTS, folder)
    numbers = folder / "numbers.yaml"
    text = numbers.read_text(encoding="utf-8")
    numbers.write_text(text.replace("  42: quarante-deux\n", ""), encoding="utf-8")
    with pytest.raises(ContentError, match="number.42"):
        load_catalog(folder)
