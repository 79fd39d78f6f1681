"""Server-rendered SVG charts: plain markup, no script, no inline style (CSP-friendly)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 320, 120
LEFT, RIGHT, TOP, BOTTOM = 30, 6, 16, 18
AXIS = "#888"


def _frame(title: str, body: list[str], days: Sequence[date]) -> Markup:
    labels = []
    n = len(days)
    step = (WIDTH - LEFT - RIGHT) / max(n, 1)
    for i, d in enumerate(days):
        if i % 2 == n % 2 or i == n - 1:
            x = LEFT + step * (i + 0.5)
            labels.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 4}" font-size="8" text-anchor="middle" fill="{AXIS}">'
                f"{d.day}</text>"
            )
    svg = (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<text x="{LEFT}" y="11" font-size="10" fill="#333">{escape(title)}</text>'
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" '
        f'stroke="{AXIS}"/>' + "".join(body) + "".join(labels) + "</svg>"
    )
    return Markup(svg)


def _scale(top: float) -> tuple[float, float]:
    """(value of the chart's top edge, pixels per unit)."""
    top = max(top, 1e-9)
    return top, (HEIGHT - TOP - BOTTOM) / top


def _y(value: float, per: float) -> float:
    return HEIGHT - BOTTOM - value * per


def _max_label(top: float, unit: str) -> str:
    return (
        f'<text x="{LEFT - 3}" y="{TOP + 3}" font-size="8" text-anchor="end" fill="{AXIS}">'
        f"{top:.0f}{escape(unit)}</text>"
    )


def bar_chart(
    title: str,
    days: Sequence[date],
    values: Sequence[float | None],
    colour: str,
    unit: str = "",
    line: float | None = None,
) -> Markup:
    """Bars per day; None is drawn as nothing (unknown), not as zero. `line`: a reference level."""
    known = [v for v in values if v is not None]
    top, per = _scale(max(known + [line or 0.0, 1.0]) * 1.1)
    step = (WIDTH - LEFT - RIGHT) / max(len(days), 1)
    body = [_max_label(top, unit)]
    for i, (d, v) in enumerate(zip(days, values, strict=True)):
        if v is None or v <= 0:
            continue
        y = _y(v, per)
        body.append(
            f'<rect x="{LEFT + step * i + 2:.1f}" y="{y:.1f}" width="{step - 4:.1f}" '
            f'height="{HEIGHT - BOTTOM - y:.1f}" fill="{colour}"><title>{d.isoformat()}: {v:g}{escape(unit)}'
            "</title></rect>"
        )
    if line is not None:
        y = _y(line, per)
        body.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#c62828" '
            'stroke-dasharray="3 2"/>'
        )
    return _frame(title, body, days)


def band_chart(
    title: str,
    days: Sequence[date],
    values: Sequence[float | None],
    band: tuple[float, float] | None,
    colour: str,
    unit: str = "",
) -> Markup:
    """Points joined by a line against a shaded normal range (`band`), when there is one."""
    known = [v for v in values if v is not None]
    top, per = _scale(max(known + ([band[1]] if band else []) + [1.0]) * 1.15)
    step = (WIDTH - LEFT - RIGHT) / max(len(days), 1)
    body = [_max_label(top, unit)]
    if band is not None:
        y_hi, y_lo = _y(band[1], per), _y(band[0], per)
        body.append(
            f'<rect class="band" x="{LEFT}" y="{y_hi:.1f}" width="{WIDTH - LEFT - RIGHT}" '
            f'height="{y_lo - y_hi:.1f}" fill="#1a7f37" fill-opacity="0.15">'
            f"<title>normal range {band[0]:.0f}-{band[1]:.0f}{escape(unit)}</title></rect>"
        )
    points = [
        (LEFT + step * (i + 0.5), _y(v, per), d, v)
        for i, (d, v) in enumerate(zip(days, values, strict=True))
        if v is not None
    ]
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
    for x, y, d, v in points:
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}">'
            f"<title>{d.isoformat()}: {v:.0f}{escape(unit)}</title></circle>"
        )
    return _frame(title, body, days)
