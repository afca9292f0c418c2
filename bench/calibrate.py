"""The spoken-length estimator against espeak-ng, over every prompt of prompts/fr.

    python bench/calibrate.py [PROMPTS]

Each prompt (placeholders left out) is synthesised with `espeak-ng -v fr -s 150` and measured
with `soxi -D`. Printed: the estimator's error with the constants shipped in
ivr/engine/spoken.py, then the constants a least-squares fit gives (seconds = start + per
syllable × syllables + per comma × short pauses + per stop × sentence pauses), which is how the
shipped ones were obtained.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import espeak

from ivr.config import ROOT
from ivr.engine import spoken
from ivr.prompts import load_catalog


@dataclass(frozen=True)
class Sample:
    key: str
    text: str
    measured: float


@dataclass(frozen=True)
class Fit:
    """How close estimates come to the measured lengths."""

    count: int
    mean_absolute_error: float
    correlation: float
    mean_measured: float


def samples(prompts: Path) -> list[Sample]:
    """Every prompt with something to say, measured."""
    catalog = load_catalog(prompts)
    found = []
    for key, template in sorted(catalog.texts.items()):
        text = re.sub(r"\{[^}]*\}", "", template).strip()
        if re.search(r"\w", text):
            found.append(Sample(key, text, espeak.seconds(text)))
    return found


def fit(found: list[Sample], estimate=spoken.seconds) -> Fit:
    """The error of an estimator over the samples."""
    guesses = [estimate(s.text) for s in found]
    measured = [s.measured for s in found]
    error = statistics.mean(abs(g - m) for g, m in zip(guesses, measured, strict=True))
    return Fit(len(found), error, statistics.correlation(guesses, measured), statistics.mean(measured))


def least_squares(found: list[Sample]) -> tuple[float, float, float, float]:
    """(start, per syllable, per comma, per stop) minimising the squared error over the samples."""
    rows = [(1.0, *spoken.measure(s.text)) for s in found]
    n = 4
    # Normal equations, solved by Gauss-Jordan elimination with partial pivoting.
    system = [
        [sum(r[i] * r[j] for r in rows) for j in range(n)]
        + [sum(r[i] * s.measured for r, s in zip(rows, found, strict=True))]
        for i in range(n)
    ]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(system[r][col]))
        system[col], system[pivot] = system[pivot], system[col]
        for r in range(n):
            if r != col:
                factor = system[r][col] / system[col][col]
                system[r] = [a - factor * b for a, b in zip(system[r], system[col], strict=True)]
    start, syllable, comma, stop = (system[i][n] / system[i][i] for i in range(n))
    return start, syllable, comma, stop


def report(found: list[Sample], out=sys.stdout) -> Fit:
    """Print the shipped constants' error; return it."""
    shipped = fit(found)
    print(f"  estimator against {espeak.LABEL} over {shipped.count} prompts of prompts/fr "
          f"(mean {shipped.mean_measured:.2f} s): mean absolute error {shipped.mean_absolute_error:.2f} s, "
          f"correlation {shipped.correlation:.3f}", file=out)
    return shipped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prompts", nargs="?", default=str(ROOT / "prompts" / "fr"))
    args = parser.parse_args(argv)
    if missing := espeak.missing():
        sys.exit(f"not measured: {', '.join(missing)} not installed ({espeak.INSTALL})")
    found = samples(Path(args.prompts))
    print("shipped constants (ivr/engine/spoken.py)")
    report(found)
    start, syllable, comma, stop = least_squares(found)
    print("least-squares fit on these prompts")
    print(f"  SECONDS_PER_SYLLABLE = {syllable:.4f}\n  SECONDS_PER_COMMA = {comma:.4f}\n"
          f"  SECONDS_PER_STOP = {stop:.4f}\n  SECONDS_TO_START = {start:.4f}")

    def fitted(text: str) -> float:
        syllables, commas, stops = spoken.measure(text)
        return start + syllable * syllables + comma * commas + stop * stops

    again = fit(found, fitted)
    print(f"  with these: mean absolute error {again.mean_absolute_error:.3f} s, "
          f"correlation {again.correlation:.4f}")
    worst = sorted(found, key=lambda s: -abs(spoken.seconds(s.text) - s.measured))[:5]
    print("largest errors of the shipped constants")
    for s in worst:
        print(f"  {spoken.seconds(s.text) - s.measured:+.2f} s of {s.measured:5.2f} s  {s.key}")


if __name__ == "__main__":
    main()
