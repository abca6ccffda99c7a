"""KMS growth chart (Kartu Menuju Sehat / Buku KIA style) as a small inline SVG. Plain Python, no Flask.

The chart obeys the strict CSP (`style-src 'self'`): no `style` attribute and no <style> element, only SVG
presentation attributes (fill=, stroke=, font-size=, ...). Output is deterministic and compact: coordinates in
tenths, each SD curve defined once in <defs> and used twice (coloured band fill, then its line on top of the
grid), month-boundary sampling of the WHO curves.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from xml.sax.saxutils import escape

from posyandu.domain.growth import DAYS_PER_MONTH, sd_curves
from posyandu.domain.rules import LYING_STANDING_DAY

_SEX = {"L": 1, "P": 2, "1": 1, "2": 2}
_SD = (3, 2, 1, 0, -1, -2, -3)
_MINUS = "\u2212"

# Band fills, KMS style and calm: index k+3 is the band just below SD line k (k = -3..3), then "above +3".
# BB/U (PMK 2/2020): < -3 sangat kurang, -3..-2 kurang, -2..+1 normal, > +1 risiko berat badan lebih.
# TB/U: < -3 sangat pendek, -3..-2 pendek, -2..+3 normal, > +3 tinggi.
_RED, _ORANGE, _LGREEN, _GREEN, _LYELLOW, _YELLOW = "#f9deda", "#fbe2b4", "#dff0d3", "#c9e6bc", "#f6f4c8", "#fbedb0"
_BANDS = {
    "wfa": (_RED, _ORANGE, _LGREEN, _GREEN, _GREEN, _LYELLOW, _YELLOW, _YELLOW),
    "lhfa": (_RED, _ORANGE, _LGREEN, _GREEN, _GREEN, _LGREEN, _LGREEN, _LYELLOW),
}
# SD line colours and widths (WHO chart convention: median green, +-2 red, +-3 black).
_LINE = {0: ("#2e7d32", 2.2), 1: ("#8a8f5a", 1.2), 2: ("#c62828", 1.8), 3: ("#263238", 1.8)}
_POINT, _FLAG = "#1a47a0", "#c62828"
_INK, _GRID, _FRAME = "#37474f", "#ffffff", "#90a4ae"
_RANGES = (12, 24, 36, 48, 60)


def chart_months(age_days_now: int) -> int:
    """A sensible x range (12, 24, 36, 48 or 60 months) for a child this old: room for the next months."""
    months = max(0.0, float(age_days_now or 0)) / DAYS_PER_MONTH
    return next((m for m in _RANGES if months + 1 <= m), _RANGES[-1])


@lru_cache(maxsize=64)
def _curves(indicator: str, sex_code: int, max_days: int) -> dict[int, tuple[float | None, ...]]:
    """The -3..+3 SD curves, one value per day 0..max_days (cached: a page shows the same few charts)."""
    sd = sd_curves(indicator, sex_code, max_days, 1)["sd"]
    return {k: tuple(sd[k]) for k in _SD}


def _sample_days(indicator: str, max_days: int, units_per_day: float) -> list[int]:
    """Days to draw the curves through: weekly, then half-monthly, then monthly candidates, thinned so points
    are at least ~4 units apart in the first half year (where weight bends fastest) and ~12 after. Days 730
    and 731 stay for length/height, so WHO's 0.7 cm step from lying length to standing height shows."""
    cand = set(range(0, 92, 7)) | {round(h * DAYS_PER_MONTH / 2) for h in range(25)}
    cand |= {round(m * DAYS_PER_MONTH) for m in range(12, math.ceil(max_days / DAYS_PER_MONTH) + 1)}
    keep = {LYING_STANDING_DAY - 1, LYING_STANDING_DAY} if indicator == "lhfa" else set()
    days, last = [0], 0
    for d in sorted(c for c in cand | keep if 0 < c < max_days):
        if d in keep or (d - last) * units_per_day >= (4 if d < 183 else 12):
            days.append(d)
            last = d
    if (max_days - last) * units_per_day < 3 and last not in keep and len(days) > 1:
        days.pop()  # the last sample would be a stub next to the right edge
    return days + [max_days]


def _n(v: float) -> str:
    """A number rounded to one decimal, shortest form (12, 3.5, -0.4 -> '12', '3.5', '-.4')."""
    s = f"{round(v, 1):.1f}".removesuffix(".0")
    s = "0" if s == "-0" else s
    return s.replace("0.", ".", 1) if s.startswith(("0.", "-0.")) else s


def _t(tenths: int) -> str:
    return _n(tenths / 10)


def _label(v: float) -> str:
    """A y-axis value the Indonesian way (decimal comma)."""
    return (f"{v:.1f}".removesuffix(".0")).replace(".", ",")


def _nice_step(span: float, room: float, min_px: float) -> float:
    for step in (0.2, 0.5, 1, 2, 5, 10, 20, 50):
        if room / (span / step) >= min_px:
            return step
    return 100.0


def _spread(ys: list[float], gap: float, low: float, high: float) -> list[float]:
    """Move label baselines apart so none overlap (order kept), staying within [low, high]."""
    out = list(ys)
    for i in range(1, len(out)):
        out[i] = max(out[i], out[i - 1] + gap)
    if out and out[-1] > high:
        out[-1] = high
        for i in range(len(out) - 2, -1, -1):
            out[i] = min(out[i], out[i + 1] - gap)
    return [max(low, y) for y in out]


def kms_chart(indicator: str, sex: str, points: list[tuple[int, float, bool]], *, title: str, y_label: str,
              x_label: str, max_months: int = 60, width: int = 640, height: int = 420, chart_id: str = "") -> str:
    """An SVG KMS growth chart (see `_draw`), kept for the last few hundred inputs: the card and meja 3 show a
    child's same two charts again and again until the next weighing, and drawing one took ~14 % of the card.
    The key is every input, so a new or corrected measurement draws afresh."""
    return _drawn(str(indicator), str(sex), tuple((a, v, bool(f)) for a, v, f in points), str(title), str(y_label),
                  str(x_label), max_months, width, height, str(chart_id))


@lru_cache(maxsize=512)
def _drawn(indicator, sex, points, title, y_label, x_label, max_months, width, height, chart_id) -> str:
    return _draw(indicator, sex, points, title=title, y_label=y_label, x_label=x_label, max_months=max_months,
                 width=width, height=height, chart_id=chart_id)


def _draw(indicator: str, sex: str, points, *, title: str, y_label: str, x_label: str, max_months: int = 60,
          width: int = 640, height: int = 420, chart_id: str = "") -> str:
    """An SVG KMS growth chart: WHO -3..+3 SD lines for the indicator ('wfa' weight-for-age kg, 'lhfa'
    length/height-for-age cm), the child's points (age_days, value, flagged) joined by a line.

    Points older than `max_months` or without a value are left out. Flagged (implausible) points are drawn as
    hollow red rings, kept out of the line and out of the y range (clamped to the edge if far off).
    The SVG scales to its container (width="100%", viewBox); text is escaped; same input -> same string.
    """
    if indicator not in _BANDS:
        raise ValueError(f"unsupported indicator {indicator!r}")
    sex_code = _SEX.get(str(sex).strip().upper())
    if sex_code is None:
        raise ValueError(f"sex must be 'L' or 'P', not {sex!r}")
    max_months = max(1, int(max_months))
    max_days = round(max_months * DAYS_PER_MONTH)
    full = _curves(indicator, sex_code, max_days)
    cid = re.sub(r"[^A-Za-z0-9_-]", "", chart_id) or f"kms-{indicator}-{sex_code}"

    pts = sorted((int(a), float(v), bool(f)) for a, v, f in points
                 if v is not None and a is not None and 0 <= a <= max_days and math.isfinite(float(v)))
    good = [p for p in pts if not p[2]]

    # y range: the SD band within the x range and the child's plausible points, with a margin.
    lo = min([v for v in full[-3] if v is not None] + [p[1] for p in good])
    hi = max([v for v in full[3] if v is not None] + [p[1] for p in good])
    pad = (hi - lo) * 0.04

    fs = max(11, round(width / 40))  # tick label size: ~16 at 640 wide
    fs_sd = fs - 3
    top, bottom = round(fs * 0.8), round(fs * 2.9)
    ph = height - top - bottom
    step = _nice_step(hi - lo + 2 * pad, ph, fs * 1.15)
    y0, y1 = math.floor((lo - pad) / step) * step, math.ceil((hi + pad) / step) * step
    every = 1 if ph / ((y1 - y0) / step) >= fs * 1.7 else 2
    unit = step * every  # the frame's top and bottom edges get labels too
    y0, y1 = math.floor(round((lo - pad) / unit, 6)) * unit, math.ceil(round((hi + pad) / unit, 6)) * unit
    ylabels = [round(y0 + i * step, 6) for i in range(int(round((y1 - y0) / step)) + 1)]
    shown = [v for v in ylabels if round(v / step) % every == 0]
    label_w = max(len(_label(v)) for v in shown) * fs * 0.6
    left = round(fs * 1.6 + label_w + 8)
    right = round(fs_sd * 1.5 + 8)
    pw = width - left - right
    px, py = left + pw, top + ph  # right and bottom edges of the plot

    def xt(days: float) -> int:  # x in tenths
        return round((left + days / DAYS_PER_MONTH * pw / max_months) * 10)

    def yt(value: float) -> int:
        return round((top + (y1 - value) / (y1 - y0) * ph) * 10)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title, {chr(34): "&quot;"})}" font-family="system-ui,-apple-system,Segoe UI,Roboto,'
        f'sans-serif" font-size="{fs}" fill="{_INK}" class="kms-chart kms-{indicator}">',
        f"<title>{escape(title)}</title>",
        f'<defs><clipPath id="{cid}-c"><rect x="{left}" y="{top}" width="{pw}" height="{ph}"/></clipPath>',
    ]
    # Each SD curve once: the curve, then a closure outside the plot (clipped away) so the path also fills
    # everything below it. Relative steps between already-rounded points: exact and short.
    ages = _sample_days(indicator, max_days, pw / max_months / DAYS_PER_MONTH)
    ends = {}
    for k in _SD:
        pts_t = [(xt(a), yt(full[k][a])) for a in ages if full[k][a] is not None]
        ends[k] = pts_t[-1][1] / 10
        steps = " ".join(_t(x - px_) + ("" if y < py_ else ",") + _t(y - py_)
                         for (px_, py_), (x, y) in zip(pts_t, pts_t[1:]))
        x0, y0_ = pts_t[0]
        out.append(f'<path id="{cid}-{k + 3}" d="M{_t(x0)},{_t(y0_)}l{steps}'
                   f'H{px + 20}V{py + 20}H{left - 20}V{_t(y0_)}Z"/>')
    out.append("</defs>")

    bands = _BANDS[indicator]
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="{bands[7]}"/>')
    out.append(f'<g clip-path="url(#{cid}-c)">')
    out.extend(f'<use href="#{cid}-{k + 3}" fill="{bands[k + 3]}"/>' for k in _SD)
    out.append("</g>")

    # Grid: white lines over the bands; every month (or 3 months when narrow), stronger each year.
    mpx = pw / max_months
    vstep = 1 if mpx >= 12 else 3
    thin = "".join(f"M{_n(left + m * mpx)} {top}V{py}" for m in range(vstep, max_months, vstep) if m % 12)
    year = "".join(f"M{_n(left + m * mpx)} {top}V{py}" for m in range(12, max_months, 12))
    horiz = "".join(f"M{left} {_n(top + (y1 - v) / (y1 - y0) * ph)}H{px}" for v in ylabels[1:-1])
    out.append(f'<path d="{thin}{horiz}" stroke="{_GRID}" stroke-width=".8" fill="none"/>')
    if year:
        out.append(f'<path d="{year}" stroke="{_GRID}" stroke-width="2" fill="none"/>')

    # SD lines on top of the grid.
    out.append(f'<g clip-path="url(#{cid}-c)" fill="none" stroke-linejoin="round">')
    for k in _SD:
        colour, w = _LINE[abs(k)]
        out.append(f'<use href="#{cid}-{k + 3}" stroke="{colour}" stroke-width="{w}"/>')
    out.append("</g>")
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="{_FRAME}"/>')

    # SD labels at the right edge, pushed apart where the lines are close.
    order = sorted(_SD, key=lambda k: ends[k])
    ys = _spread([ends[k] + fs_sd * 0.35 for k in order], fs_sd * 1.05, top + fs_sd * 0.7, py + fs_sd * 0.35)
    out.append(f'<g font-size="{fs_sd}" font-weight="bold">')
    for k, y in zip(order, ys):
        text = "0" if k == 0 else (f"+{k}" if k > 0 else f"{_MINUS}{-k}")
        out.append(f'<text x="{px + 4}" y="{_n(y)}" fill="{_LINE[abs(k)][0]}">{text}</text>')
    out.append("</g>")

    # Axes: y labels on the gridlines, x ticks every 3 months, labels every 6 (12 when narrow).
    out.append('<g text-anchor="end">')
    out.extend(f'<text x="{left - 5}" y="{_n(top + (y1 - v) / (y1 - y0) * ph + fs * 0.35)}">{_label(v)}</text>'
               for v in shown)
    out.append("</g>")
    lstep = next((n for n in (1, 3, 6) if n * mpx >= fs * 2.6), 12)
    tstep = min(lstep, 3)
    ticks = "".join(f"M{_n(left + m * mpx)} {py}v{5 if m % lstep == 0 else 3}"
                    for m in range(0, max_months + 1, tstep))
    out.append(f'<path d="{ticks}" stroke="{_FRAME}" fill="none"/>')
    out.append('<g text-anchor="middle">')
    out.extend(f'<text x="{_n(left + m * mpx)}" y="{py + round(fs * 1.25)}">{m}</text>'
               for m in range(0, max_months + 1, lstep))
    out.append(f'<text x="{_n(left + pw / 2)}" y="{height - round(fs * 0.35)}" font-weight="bold">'
               f"{escape(x_label)}</text>")
    cy = _n(top + ph / 2)
    out.append(f'<text x="{round(fs * 1.1)}" y="{cy}" transform="rotate(-90 {round(fs * 1.1)} {cy})" '
               f'font-weight="bold">{escape(y_label)}</text>')
    out.append("</g>")

    # The child's line (plausible points only) and points; flagged points as hollow red rings.
    if len(good) > 1:
        line = " ".join(f"{_t(xt(a))},{_t(yt(v))}" for a, v, _ in good)
        out.append(f'<polyline points="{line}" fill="none" stroke="{_POINT}" stroke-width="2.4" '
                   f'stroke-linejoin="round"/>')
    r = _n(fs * 0.28)
    if good:
        out.append(f'<g class="kms-points" fill="{_POINT}" stroke="#fff" stroke-width="1.5">')
        out.extend(f'<circle cx="{_t(xt(a))}" cy="{_t(yt(v))}" r="{r}"/>' for a, v, _ in good)
        out.append("</g>")
    flagged = [p for p in pts if p[2]]
    if flagged:
        ylo, yhi = top * 10 + 40, py * 10 - 40  # keep far-off values visible at the edge
        out.append(f'<g class="kms-flagged" fill="#fff" stroke="{_FLAG}" stroke-width="2.2">')
        out.extend(f'<circle cx="{_t(xt(a))}" cy="{_t(min(yhi, max(ylo, yt(v))))}" r="{_n(fs * 0.32)}"/>'
                   for a, v, _ in flagged)
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)
