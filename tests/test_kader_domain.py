"""Kader competence and commitment rules, without an app."""
import json

import pytest

from posyandu.domain import competence as c
from posyandu.domain.commitment import (PAD_H, PAD_W, SignatureError, canonical_text, dump_strokes, load_strokes,
                                        parse_strokes, svg_path, text_hash)

CAT = c.catalogue()
ALL = {s.code for s in CAT.skills}


def codes(*groups):
    return {s.code for s in CAT.skills if s.group in groups}


def test_catalogue_has_25_skills_in_five_groups_of_4_7_6_3_5():
    sizes = {g: len(v) for g, v in CAT.by_group().items()}
    assert sizes == {"manajemen": 4, "balita": 7, "ibu_hamil": 6, "remaja": 3, "dewasa_lansia": 5}
    assert len(ALL) == 25 and CAT.version


def test_duplicate_skill_codes_are_refused():
    data = {"version": "x", "groups": [{"code": "a", "name": "A", "skills": [{"code": "1", "name": "x"}]},
                                       {"code": "b", "name": "B", "skills": [{"code": "1", "name": "y"}]}]}
    with pytest.raises(ValueError):
        c.parse_catalogue(data)


@pytest.mark.parametrize("groups, expected", [
    ((), None),
    (("manajemen", "balita"), None),  # Purwa needs one more group
    (("manajemen", "balita", "remaja"), "purwa"),
    (("manajemen", "balita", "dewasa_lansia"), "purwa"),
    (("manajemen", "balita", "ibu_hamil"), "purwa"),  # ibu hamil is the "one more" of Purwa, not yet Madya
    (("manajemen", "balita", "ibu_hamil", "remaja"), "madya"),
    (("manajemen", "balita", "ibu_hamil", "dewasa_lansia"), "madya"),
    (("manajemen", "balita", "ibu_hamil", "remaja", "dewasa_lansia"), "utama"),
    (("balita", "ibu_hamil", "remaja", "dewasa_lansia"), None),  # no management: nothing
])
def test_default_stratum_rule(groups, expected):
    assert c.stratum_of(codes(*groups)) == expected


def test_a_group_counts_only_when_every_skill_passed():
    almost = codes("manajemen", "balita", "remaja") - {"R3"}
    assert c.completed_groups(almost, CAT) == {"manajemen", "balita"}
    assert c.stratum_of(almost) is None
    assert c.stratum_of(almost | {"R3"}) == "purwa"


def test_rule_is_configurable_and_checked():
    lenient = [{"stratum": "purwa", "required": ["balita"], "extra": 0}]
    assert c.stratum_of(codes("balita"), rule=lenient) == "purwa"
    c.validate_rule(c.DEFAULT_STRATUM_RULE, [g for g, _ in CAT.groups])
    with pytest.raises(ValueError):
        c.validate_rule([{"stratum": "purwa", "required": ["bayi"], "extra": 1}], [g for g, _ in CAT.groups])
    with pytest.raises(ValueError):
        c.validate_rule([{"stratum": "emas", "required": [], "extra": 0}], [g for g, _ in CAT.groups])


def test_shares_against_target_count_a_kader_once_per_unit():
    units = {1: ["A"], 2: ["A"], 3: ["A", "B"], 4: ["B"], 5: ["B", "B"]}
    strata = {1: "purwa", 3: None, 4: "utama"}
    out = {s.key: s for s in c.shares(units, strata, 0.10, {"A": "Kel A", "B": "Kel B"})}
    assert (out["A"].total, out["A"].trained) == (3, 1)
    assert (out["B"].total, out["B"].trained) == (3, 1)  # kader 5 counted once in B
    assert out["A"].share == pytest.approx(1 / 3) and out["A"].meets_target
    assert not c.Share("x", "x", 0, 0, 0.1).meets_target
    assert not c.Share("x", "x", 100, 9, 0.1).meets_target and c.Share("x", "x", 100, 10, 0.1).meets_target


def test_text_hash_is_of_the_exact_nfc_text():
    decomposed = "Ni Luh Putu A\u0304yu\r\n"
    text = canonical_text(decomposed)
    assert text == "Ni Luh Putu \u0100yu"
    assert text_hash(text) == "%064x" % int.from_bytes(__import__("hashlib").sha256(text.encode()).digest(), "big")
    assert text_hash(text) != text_hash(text + " ")


def test_strokes_roundtrip_and_limits():
    raw = json.dumps([[10, 10, 200, 100, 400.4, 50], [500, 300, 520, 310]])
    strokes = parse_strokes(raw)
    assert strokes[0][2] == (400, 50)
    assert load_strokes(dump_strokes(strokes)) == strokes
    assert svg_path(dump_strokes(strokes)).startswith("M10 10 L200 100")
    for bad in ("", "x", "{}", "[]", "[[1]]", '[["a", 2]]', json.dumps([[PAD_W + 1, 0, 0, 0]]),
                json.dumps([[0, PAD_H + 5, 10, 10]]), json.dumps([[True, 1, 2, 3]]),
                json.dumps([[10, 10, 12, 12, 13, 13]]),  # a dot, not a signature
                json.dumps([[1, 1] * 5000])):
        with pytest.raises(SignatureError):
            parse_strokes(bad)
