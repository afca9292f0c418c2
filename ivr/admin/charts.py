"""Charts as SVG drawn on the server: readable without JavaScript, each with a table of its figures."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

# DSFR colours: blue France, and the "illustrative" tints used for the answers.
BLUE = "#000091"
SERIES = {"yes": "#18753c", "no": "#ce0500", "unsure": "#b34000", "hung_up": "#3a3a3a", "other": "#6a6af4"}
TEXT = "#161616"
GRID = "#dddddd"


@dataclass(frozen=True)
class Bar:
    """One labelled bar, split into coloured parts (one part for a plain bar)."""

    label: str
    parts: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(value for _, value in self.parts)


def _svg(ident: str, title: str, description: str, width: int, height: int) -> ET.Element:
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "role": "img",
            "width": "100%",
            "viewBox": f"0 0 {width} {height}",
            "aria-labelledby": f"{ident}-title {ident}-desc",
            "class": "ivr-chart",
            "focusable": "false",
        },
    )
    ET.SubElement(svg, "title", {"id": f"{ident}-title"}).text = title
    ET.SubElement(svg, "desc", {"id": f"{ident}-desc"}).text = description
    return svg


def _text(
    parent: ET.Element, x: float, y: float, content: str, anchor: str = "start", size: int = 12
) -> None:
    ET.SubElement(
        parent,
        "text",
        {
            "x": f"{x:.1f}",
            "y": f"{y:.1f}",
            "text-anchor": anchor,
            "font-size": str(size),
            "fill": TEXT,
        },
    ).text = content


def columns(ident: str, title: str, description: str, bars: Sequence[Bar]) -> Markup:
    """Vertical bars, one per label (calls per day); labels thinned out when there are many."""
    width, height, left, bottom, top = 720, 240, 40, 40, 16
    svg = _svg(ident, title, description, width, height)
    peak = max((b.total for b in bars), default=0) or 1
    plot_h = height - bottom - top
    step = (width - left - 8) / max(len(bars), 1)
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        ET.SubElement(
            svg,
            "line",
            {"x1": str(left), "x2": str(width - 4), "y1": f"{y:.1f}", "y2": f"{y:.1f}", "stroke": GRID},
        )
        _text(svg, left - 6, y + 4, f"{round(peak * fraction)}", anchor="end", size=11)
    every = max(1, len(bars) // 12)
    for n, bar in enumerate(bars):
        h = plot_h * bar.total / peak
        x = left + n * step + step * 0.15
        ET.SubElement(
            svg,
            "rect",
            {
                "x": f"{x:.1f}",
                "y": f"{top + plot_h - h:.1f}",
                "width": f"{step * 0.7:.1f}",
                "height": f"{h:.1f}",
                "fill": BLUE,
            },
        )
        if n % every == 0:
            _text(svg, x + step * 0.35, height - bottom + 16, bar.label, anchor="middle", size=11)
    return Markup(ET.tostring(svg, encoding="unicode"))


def rows(ident: str, title: str, description: str, bars: Sequence[Bar], names: dict[str, str]) -> Markup:
    """Horizontal bars, one per label, each split into its parts, with a legend of the parts."""
    label_w, width, row_h, top = 260, 720, 28, 8
    kinds = [k for k in SERIES if any(k == part for b in bars for part, _ in b.parts)]
    legend_h = 28 if len(kinds) > 1 else 0
    height = top + row_h * max(len(bars), 1) + legend_h + 8
    svg = _svg(ident, title, description, width, height)
    peak = max((b.total for b in bars), default=0) or 1
    plot_w = width - label_w - 60
    for n, bar in enumerate(bars):
        y = top + n * row_h
        _text(svg, label_w - 8, y + 17, _shorten(bar.label), anchor="end")
        x = float(label_w)
        for kind, value in bar.parts:
            w = plot_w * value / peak
            if w > 0:
                ET.SubElement(
                    svg,
                    "rect",
                    {
                        "x": f"{x:.1f}",
                        "y": f"{y + 4:.1f}",
                        "width": f"{w:.1f}",
                        "height": str(row_h - 8),
                        "fill": SERIES.get(kind, BLUE),
                    },
                )
            x += w
        _text(svg, x + 6, y + 17, str(bar.total))
    if len(kinds) > 1:
        x = float(label_w)
        y = top + row_h * len(bars) + 10
        for kind in kinds:
            ET.SubElement(
                svg,
                "rect",
                {"x": f"{x:.1f}", "y": f"{y:.1f}", "width": "12", "height": "12", "fill": SERIES[kind]},
            )
            _text(svg, x + 16, y + 11, names.get(kind, kind), size=11)
            x += 24 + 7 * len(names.get(kind, kind))
    return Markup(ET.tostring(svg, encoding="unicode"))


def _shorten(label: str, size: int = 38) -> str:
    return label if len(label) <= size else label[: size - 1] + "…"
