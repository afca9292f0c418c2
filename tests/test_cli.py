"""`ivr call` plays a call in the terminal; `ivr check` validates the content."""

from __future__ import annotations

import subprocess
import sys

from ivr.cli import main
from ivr.config import ROOT


def test_ivr_call_with_keys_prints_the_whole_call_and_its_result(capsys, monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    assert main(["call", "--keys", ",".join(["1"] * 14) + ",9"]) == 0
    out = capsys.readouterr().out
    assert "Bonjour, bienvenue sur la ligne d'aide FranceConnect." in out
    assert ("Vous pouvez utiliser : impôts point gouv point fr, ameli point fr, "
            "L'Identité Numérique de La Poste, Mobile Connect et moi, d'Orange et la MSA.") in out
    assert "Merci de votre appel. Au revoir" in out
    assert out.rstrip().endswith("(call ended)")


def test_ivr_call_understands_words_and_silence(capsys):
    assert main(["call", "--keys", ".,non"]) == 0
    out = capsys.readouterr().out
    assert "caller> non" in out
    assert "FranceConnect demande un numéro de sécurité sociale qui commence par 1 ou par 2." in out


def test_ivr_call_signs_its_requests_when_an_auth_token_is_set(capsys, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "fedcba9876543210" * 2)
    assert main(["call", "--keys", "1,2"]) == 0
    assert "FranceConnect demande" in capsys.readouterr().out


def test_ivr_call_reads_answers_typed_at_the_keyboard():
    done = subprocess.run(
        [sys.executable, "-m", "ivr.cli", "call"],
        input="1\n2\n9\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={"PATH": "", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert "FranceConnect demande" in done.stdout
    assert "(call ended)" in done.stdout


def test_ivr_check_reports_a_good_flow_and_names_a_broken_one(tmp_path, capsys):
    assert main(["check"]) == 0
    assert "ok:" in capsys.readouterr().out
    broken = tmp_path / "flow.yaml"
    broken.write_text("id: x\nversion: 0\n", encoding="utf-8")
    assert main(["check", "--flow", str(broken)]) == 2
    assert "flow.yaml: version: " in capsys.readouterr().err
