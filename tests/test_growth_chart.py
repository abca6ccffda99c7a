"""KMS growth chart SVG: valid XML, SD lines, points, flagged points, CSP-safe, small, deterministic (no Flask)."""
import re
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
try:
    import posyandu  # noqa: F401
except ImportError:  # the app package needs Flask; the growth modules do not
    _pkg = types.ModuleType("posyandu")
    _pkg.__path__ = [str(ROOT / "posyandu")]
    sys.modules["posyandu"] = _pkg

from posyandu.domain.growth import DAYS_PER_MONTH, value_for_z  # noqa: E402
from posyandu.domain.growth_chart import chart_months, kms_chart  # noqa: E402

NS = "{http://www.w3.org/2000/svg}"
LABELS = {"title": "Berat badan menurut umur", "y_label": "Berat badan (kg)", "x_label": "Umur (bulan)"}


def _points(indicator, sex, months, z=-0.5, flagged=()):
    out = []
    for m in months:
        d = round(m * DAYS_PER_MONTH)
        out.append((d, round(value_for_z(indicator, sex, d, z), 1), m in flagged))
    return out


def _chart(indicator="wfa", sex="L", points=None, **kw):
    args = {**LABELS, **kw}
    return kms_chart(indicator, sex, _points(indicator, sex, range(24)) if points is None else points, **args)


def _tree(svg):
    return ET.fromstring(svg)


def _sd_paths(root):
    return [p for p in root.iter(NS + "path") if p.get("id")]


@pytest.mark.parametrize("indicator", ["wfa", "lhfa"])
@pytest.mark.parametrize("sex", ["L", "P"])
def test_parses_with_seven_sd_lines_and_accessible_name(indicator, sex):
    root = _tree(_chart(indicator, sex, max_months=60))
    assert root.tag == NS + "svg"
    assert root.get("role") == "img" and root.get("aria-label") == LABELS["title"]
    assert root.get("width") == "100%" and root.get("viewBox") == "0 0 640 420" and root.get("height") is None
    assert root.find(NS + "title").text == LABELS["title"]
    assert len(_sd_paths(root)) == 7
    uses = list(root.iter(NS + "use"))
    assert len(uses) == 14  # each SD curve: band fill, then line
    strokes = [u for u in uses if u.get("stroke")]
    assert len(strokes) == 7 and len({u.get("href") for u in strokes}) == 7
    texts = [t.text for t in root.iter(NS + "text")]
    for label in ("+3", "+2", "0", "\u22122", "\u22123"):
        assert label in texts
    assert LABELS["x_label"] in texts and LABELS["y_label"] in texts


def test_point_circles_and_flagged_points_drawn_differently():
    pts = _points("wfa", "L", range(0, 24), flagged={5, 11})
    pts.append((round(30 * DAYS_PER_MONTH), 14.0, False))  # beyond the 24-month range: left out
    pts.append((400, None, False))  # no value: left out
    root = _tree(_chart(points=pts, max_months=24))
    circles = list(root.iter(NS + "circle"))
    assert len(circles) == 24
    groups = {g.get("class"): g for g in root.iter(NS + "g") if g.get("class")}
    normal, flagged = groups["kms-points"], groups["kms-flagged"]
    assert len(normal.findall(NS + "circle")) == 22 and len(flagged.findall(NS + "circle")) == 2
    assert normal.get("fill") != flagged.get("fill") and flagged.get("fill") == "#fff"
    assert normal.get("stroke") != flagged.get("stroke")
    # the line joins the plausible points only
    line = root.find(NS + "polyline")
    assert len(line.get("points").split()) == 22


def test_far_off_flagged_point_is_clamped_not_stretching_the_axis():
    pts = _points("wfa", "L", range(0, 12)) + [(round(11.5 * DAYS_PER_MONTH), 95.0, True)]
    svg = _chart(points=pts, max_months=12)
    root = _tree(svg)
    labels = [t.text for t in root.iter(NS + "text") if t.text and t.text.replace(",", "").isdigit()]
    assert max(float(v.replace(",", ".")) for v in labels) < 30  # y axis stays near the SD band
    ring = root.find(f"{NS}g[@class='kms-flagged']/{NS}circle")
    assert float(ring.get("cy")) >= 0


def test_no_style_anywhere_and_text_escaped():
    svg = _chart(title='Budi <"&"> \'s', y_label="BB <kg>", x_label="Umur & bulan",
                 points=_points("wfa", "L", range(24), flagged={3}))
    assert "style" not in svg.lower()
    assert "<script" not in svg.lower() and " on" not in re.sub(r'"[^"]*"', '""', svg)  # no event handlers
    root = _tree(svg)
    assert root.get("aria-label") == 'Budi <"&"> \'s'
    texts = [t.text for t in root.iter(NS + "text")]
    assert "BB <kg>" in texts and "Umur & bulan" in texts
    for el in root.iter():
        assert "style" not in el.attrib


@pytest.mark.parametrize("indicator", ["wfa", "lhfa"])
@pytest.mark.parametrize("sex", ["L", "P"])
def test_size_budget_60_months_60_points(indicator, sex):
    pts = _points(indicator, sex, range(60), z=-2.4, flagged={7, 30})
    svg = kms_chart(indicator, sex, pts, max_months=60, **LABELS)
    size = len(svg.encode("utf-8"))
    assert size <= 12 * 1024, size
    assert len(list(_tree(svg).iter(NS + "circle"))) == 60
    # numbers carry at most one decimal
    assert not re.search(r"\d\.\d\d", svg)


def test_deterministic_and_sexes_differ():
    a = _chart("lhfa", "P", max_months=36)
    assert a == _chart("lhfa", "P", max_months=36)
    boy, girl = _chart("wfa", "L", points=[]), _chart("wfa", "P", points=[])
    assert [p.get("d") for p in _sd_paths(_tree(boy))] != [p.get("d") for p in _sd_paths(_tree(girl))]
    assert _chart("wfa", "L") != _chart("lhfa", "L")


def test_x_range_follows_max_months():
    def month_labels(svg):
        root = _tree(svg)
        g = [g for g in root.iter(NS + "g") if g.get("text-anchor") == "middle"][0]
        return [int(t.text) for t in g.findall(NS + "text") if t.text.isdigit()]

    assert month_labels(_chart(max_months=12))[-1] == 12
    assert month_labels(_chart(max_months=24))[-1] == 24
    labels60 = month_labels(_chart(max_months=60))
    assert labels60[-1] == 60 and all(m % 6 == 0 for m in labels60)
    narrow = month_labels(_chart(max_months=60, width=300, height=300))
    assert narrow == [0, 12, 24, 36, 48, 60]


def test_lhfa_shows_the_length_to_height_step():
    root = _tree(_chart("lhfa", "L", points=[], max_months=36))
    median = next(p for p in _sd_paths(root) if p.get("id").endswith("-3"))
    # a near-vertical downward step (dy > 0 in SVG) of ~0.7 cm over one day somewhere in the path
    steps = re.findall(r"(-?[\d.]+),?(-?[\d.]+)", median.get("d").split("l", 1)[1].split("H")[0])
    assert any(abs(float(dx)) <= 0.5 and float(dy) > 1 for dx, dy in steps)


def test_no_points_and_unknown_inputs():
    root = _tree(_chart(points=[]))
    assert root.find(NS + "polyline") is None and not list(root.iter(NS + "circle"))
    with pytest.raises(ValueError):
        _chart(sex="X")
    with pytest.raises(ValueError):
        _chart(indicator="hcfa")


def test_chart_id_is_used_and_sanitised():
    svg = _chart(chart_id='c1" onload="x')
    root = _tree(svg)
    clip = root.find(f"{NS}defs/{NS}clipPath")
    assert clip.get("id") == "c1onloadx-c"
    assert 'url(#c1onloadx-c)' in svg


@pytest.mark.parametrize("days,months", [(0, 12), (200, 12), (330, 12), (340, 24), (700, 24), (720, 36),
                                         (1000, 36), (1400, 48), (1500, 60), (1826, 60), (3000, 60)])
def test_chart_months(days, months):
    assert chart_months(days) == months
