"""`ivr call` plays a call in the terminal; `ivr check` validates the content."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ivr.cli import main
from ivr.config import ROOT
from ivr.engine.reply import line
from ivr.flow import load_flow
from ivr.prompts import load_catalog
from tests.caller import eligible
from tests.conftest import CURRENT, SEED

CATALOG = load_catalog(ROOT / "prompts" / "fr")


def say(key: str, **params) -> str:
    return CATALOG.render(line(key, **params))


def gate_failed(path) -> str:
    return say("result.gate_failed", item=line(load_flow(path).criterion("nir").label))


@pytest.mark.parametrize(("flow", "path"), [((), CURRENT), (("--flow", str(SEED)), SEED)],
                         ids=["default", "seed"])
def test_ivr_call_with_keys_prints_the_whole_call_and_its_result(capsys, monkeypatch, flow, path):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("IVR_FLOW", raising=False)
    assert main(["call", *flow, "--keys", ",".join(["1"] * 20) + ",2,2"]) == 0
    out = capsys.readouterr().out
    assert say("greeting.welcome") in out
    current = load_flow(path)
    usable = eligible(current, {c.id: True for c in current.criteria})
    names = {p.id: line(p.name) for p in current.providers}
    assert say("result.eligible", providers=tuple(names[p] for p in usable)) in out
    assert "sms| " in out
    assert say("goodbye") in out
    assert out.rstrip().endswith("(call ended)")


def test_ivr_call_understands_words_and_silence(capsys):
    assert main(["call", "--keys", ".,non"]) == 0
    out = capsys.readouterr().out
    assert "caller> non" in out
    assert gate_failed(CURRENT) in out


def test_ivr_call_signs_its_requests_when_an_auth_token_is_set(capsys, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "fedcba9876543210" * 2)
    assert main(["call", "--keys", "1,2"]) == 0
    assert gate_failed(CURRENT) in capsys.readouterr().out


def test_ivr_call_reads_answers_typed_at_the_keyboard():
    done = subprocess.run(
        [sys.executable, "-m", "ivr.cli", "call"],
        input="1\n2\n\n\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={"PATH": "", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert gate_failed(CURRENT) in done.stdout
    assert "(call ended)" in done.stdout


def test_ivr_check_reports_a_good_flow_and_names_a_broken_one(tmp_path, capsys):
    assert main(["check"]) == 0
    assert "ok:" in capsys.readouterr().out
    broken = tmp_path / "flow.yaml"
    broken.write_text("id: x\nversion: 0\n", encoding="utf-8")
    assert main(["check", "--flow", str(broken)]) == 2
    assert "flow.yaml: version: " in capsys.readouterr().err
