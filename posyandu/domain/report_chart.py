"""Trend lines for the reports as a small SVG. Plain Python, no Flask.

CSP-safe like the KMS chart: presentation attributes only (no style attribute, no <style>), text escaped,
deterministic output. Months without data leave a gap in the line.
"""
from datetime import date
from xml.sax.saxutils import escape

COLOURS = ("#c62828", "#1a47a0", "#9a5b00")
DASHES = ("", "6 4", "2 3")
_INK, _GRID = "#37474f", "#d6dfdb"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def _n(v: float) -> str:
    return f"{v:.1f}".removesuffix(".0")


def trend_chart(points: list[tuple[date, float | None, ...]], *, title: str, series: tuple[str, ...],
                y_label: str, width: int = 640, height: int = 300) -> str:
    """Lines of percentages by month: points are (month, value of series 1, value of series 2, …)."""
    values = [v for p in points for v in p[1:] if v is not None]
    top_value = max([10.0] + values)
    step = next(s for s in (2, 5, 10, 20, 25) if top_value / s <= 6)
    y_max = step * (int(top_value // step) + 1)
    left, right, top, bottom = 56, 12, 36, 24
    pw, ph = width - left - right, height - top - bottom
    n = max(len(points), 1)
    dx = pw / max(n - 1, 1)

    def x(i):
        return left + i * dx

    def y(v):
        return top + ph - v / y_max * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'aria-label="{escape(title, {chr(34): "&quot;"})}" font-family="system-ui,sans-serif" font-size="12" '
           f'fill="{_INK}" class="trend-chart"><title>{escape(title)}</title>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="{_GRID}"/>']
    grid = "".join(f"M{left} {_n(y(v))}H{left + pw}" for v in range(step, y_max, step))
    out.append(f'<path d="{grid}" stroke="{_GRID}" fill="none"/>')
    out.append('<g text-anchor="end">')
    out.extend(f'<text x="{left - 4}" y="{_n(y(v) + 4)}">{v}</text>' for v in range(0, y_max + 1, step))
    out.append("</g>")
    out.append('<g text-anchor="middle">')
    for i, p in enumerate(points):
        label = MONTHS[p[0].month - 1] + (f" {p[0].year % 100:02d}" if p[0].month == 1 or i == 0 else "")
        out.append(f'<text x="{_n(x(i))}" y="{top + ph + 16}">{label}</text>')
    out.append("</g>")
    # The unit names the vertical axis, so it runs along it (it sat under the months, as if it named them).
    out.append(f'<text transform="rotate(-90)" x="{_n(-(top + ph / 2))}" y="14" text-anchor="middle" '
               f'font-weight="bold">{escape(y_label)}</text>')
    for k, name in enumerate(series):
        colour, dash = COLOURS[k % 3], DASHES[k % 3]
        segs, cur = [], []
        for i, p in enumerate(points):
            v = p[1 + k] if len(p) > 1 + k else None
            if v is None:
                if cur:
                    segs.append(cur)
                cur = []
            else:
                cur.append(f"{_n(x(i))},{_n(y(v))}")
        if cur:
            segs.append(cur)
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        for seg in segs:
            if len(seg) > 1:
                out.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="2.2"{extra}/>')
            out.extend(f'<circle cx="{pt.split(",")[0]}" cy="{pt.split(",")[1]}" r="3" fill="{colour}"/>' for pt in seg)
        lx = left + k * (pw / max(len(series), 1))
        out.append(f'<path d="M{_n(lx)} 14h22" stroke="{colour}" stroke-width="2.2"{extra}/>'
                   f'<text x="{_n(lx + 28)}" y="18">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)
