"""Chart geometry for the Insights page: numbers in, boxes and points out.

The desk's template draws them as inline SVG, so Jinja escapes every label, nothing is
fetched from elsewhere (the desk's Content-Security-Policy allows only its own files), and a
phone scales the drawing with its `viewBox`. A figure hidden as "fewer than 5" is drawn as
an empty marker with that title, never as its number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Sequence

from desk.insights.figures import FEWER_THAN_5

WIDTH, HEIGHT = 640, 220
LEFT, BOTTOM, TOP = 40, 30, 10
BAR_ROW = 26


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    hidden: bool = False


@dataclass
class DailyChart:
    bars: List[Bar]
    containment: str  # SVG polyline points, "x,y x,y ..."
    peak: int
    width: int = WIDTH
    height: int = HEIGHT


@dataclass
class BarChart:
    bars: List[Bar]
    width: int = WIDTH
    height: int = 0


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and value is not None else None


def daily(per_day: Sequence[Dict[str, Any]]) -> DailyChart:
    """Conversations a day as bars; containment (0 to 100%) as a line over them."""
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - TOP
    peak = max((_number(day["conversations"]) or 0 for day in per_day), default=0) or 1
    slot = plot_w / max(1, len(per_day))
    bars, points = [], []
    for index, day in enumerate(per_day):
        count = _number(day["conversations"])
        x = LEFT + index * slot
        hidden = day["conversations"] == FEWER_THAN_5
        height = 3.0 if hidden else plot_h * (count or 0) / peak
        bars.append(
            Bar(x + slot * 0.1, TOP + plot_h - height, slot * 0.8, height, day["day"],
                str(day["conversations"]), hidden)
        )  # fmt: skip
        share = _number(day["containment"])
        if share is not None:
            points.append(f"{x + slot / 2:.1f},{TOP + plot_h * (1 - share):.1f}")
    return DailyChart(bars=bars, containment=" ".join(points), peak=int(peak))


def horizontal(rows: Sequence[tuple[str, Any]]) -> BarChart:
    """One labelled bar per row, longest first as given; hidden values get a stub."""
    label_w = 260
    plot_w = WIDTH - label_w - 60
    peak = max((_number(value) or 0 for _, value in rows), default=0) or 1
    bars = []
    for index, (label, value) in enumerate(rows):
        amount = _number(value)
        hidden = value == FEWER_THAN_5
        width = 3.0 if hidden or amount is None else max(1.0, plot_w * amount / peak)
        shown = "none yet" if value is None else str(value)
        bars.append(Bar(label_w, index * BAR_ROW + 4, width, BAR_ROW - 8, label, shown, hidden))
    return BarChart(bars=bars, height=max(BAR_ROW, len(rows) * BAR_ROW))


def handoff_times(figures: Dict[str, Any]) -> BarChart:
    claim = figures["handoff_minutes_to_claim"]
    reply = figures["handoff_minutes_to_first_reply"]
    return horizontal(
        [
            ("To claim, median (minutes)", claim["median"]),
            ("To claim, 90th percentile", claim["p90"]),
            ("To first reply, median", reply["median"]),
            ("To first reply, 90th percentile", reply["p90"]),
        ]
    )


def topics(figures: Dict[str, Any]) -> BarChart:
    return horizontal([(item["topic"], item["count"]) for item in figures["top_topics"]])
