"""How long a text takes to say, measured: espeak-ng's French voice, timed with sox's soxi."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

VOICE = ("-v", "fr", "-s", "150")
TOOLS = ("espeak-ng", "soxi")
LABEL = f"espeak-ng {' '.join(VOICE)}, measured with soxi -D"
INSTALL = "apt-get install -y espeak-ng sox"


def missing() -> list[str]:
    """The tools this machine lacks to measure speech."""
    return [tool for tool in TOOLS if shutil.which(tool) is None]


@functools.cache
def seconds(text: str) -> float:
    """Length of the text spoken by espeak-ng's French voice at 150 words per minute."""
    if not text.strip():
        return 0.0
    with tempfile.TemporaryDirectory() as folder:
        source, wav = Path(folder) / "say.txt", Path(folder) / "say.wav"
        source.write_text(text, encoding="utf-8")
        subprocess.run(["espeak-ng", *VOICE, "-f", str(source), "-w", str(wav)], check=True)
        out = subprocess.run(["soxi", "-D", str(wav)], check=True, capture_output=True, text=True)
        return float(out.stdout)
