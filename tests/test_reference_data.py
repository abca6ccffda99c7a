"""Reference data (immunisation schedule, questionnaires, counselling topics) and the plain rules that read it."""
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from posyandu.domain import assessment as a
from posyandu.domain.counselling import load_topics, suggest_topics
from posyandu.domain.immunisation import add_months, complete_basic, due_doses, load_schedule
from posyandu.domain.lifecycle import GROUPS, age_in_months
from posyandu.domain.screening import applicable, load_questionnaires, score
from posyandu.domain.supplements import deworming_due, vitamin_a_due

DATA = Path(__file__).resolve().parents[1] / "posyandu" / "data"
BIRTH = date(2025, 1, 10)


# ---- every JSON file loads ----

@pytest.mark.parametrize("path", sorted([DATA / "immunisation_schedule.json", DATA / "counselling_topics.json",
                                         *(DATA / "questionnaires").glob("*.json")]), ids=lambda p: p.name)
def test_every_json_file_parses_and_has_a_version(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["version"] and raw["source"]


# ---- immunisation ----

def statuses(on, given=None, **kw):
    return {s.code: s for s in due_doses(load_schedule(), BIRTH, on, given or {}, **kw)}


def test_schedule_loads_once_and_matches_the_national_schedule():
    s = load_schedule()
    assert s is load_schedule() and s.version == "2025-kemenkes"
    by_month = {}
    for d in s.doses:
        by_month.setdefault(d.due_month, []).append(d.code)
    assert by_month == {
        0: ["HB0", "BCG", "POLIO1"], 2: ["DPT1", "POLIO2", "PCV1", "RV1"], 3: ["DPT2", "POLIO3", "PCV2", "RV2"],
        4: ["DPT3", "POLIO4", "IPV1", "RV3"], 9: ["MR1", "IPV2"], 10: ["JE"], 12: ["PCV3"],
        18: ["DPT_LANJUT", "MR_LANJUT"]}
    assert s.dose("JE").regional and s.dose("HB0").overdue_after_days == 7
    for d in s.doses:  # a series' previous dose comes earlier, with an interval of at least 4 weeks
        if d.after:
            assert s.dose(d.after).due_month < d.due_month and d.min_interval_days >= 28
    with pytest.raises(KeyError):
        s.dose("XYZ")


def test_add_months_agrees_with_age_in_months():
    for birth in (date(2024, 1, 31), date(2024, 2, 29), date(2023, 12, 31), date(2025, 3, 15)):
        for n in range(0, 30):
            d = add_months(birth, n)
            assert age_in_months(birth, d) == n and age_in_months(birth, d - timedelta(days=1)) == n - 1
    assert add_months(date(2025, 1, 31), 1) == date(2025, 3, 1)
    assert add_months(date(2025, 11, 30), 2) == date(2026, 1, 30)


def test_newborn_needs_the_birth_doses_only():
    st = statuses(BIRTH)
    assert {c: s.status for c, s in st.items()} == {"HB0": "due", "BCG": "due", "POLIO1": "due"}
    assert st["HB0"].due_date == BIRTH and st["HB0"].given_on is None


def test_hb0_is_only_given_in_the_first_seven_days():
    assert statuses(BIRTH + timedelta(days=7))["HB0"].status == "due"
    assert statuses(BIRTH + timedelta(days=8))["HB0"].status == "missed"  # hepatitis B follows via DPT-HB-Hib


def test_other_doses_are_overdue_more_than_one_month_after_the_due_date():
    assert statuses(date(2025, 2, 10))["BCG"].status == "due"
    assert statuses(date(2025, 2, 11))["BCG"].status == "overdue"
    birth_doses = {"HB0": BIRTH, "BCG": BIRTH, "POLIO1": BIRTH}
    assert statuses(date(2025, 4, 10), birth_doses)["DPT1"].status == "due"
    assert statuses(date(2025, 4, 11), birth_doses)["DPT1"].status == "overdue"


def test_not_yet_doses_are_listed_only_within_the_next_month():
    assert "DPT1" not in statuses(date(2025, 2, 9))
    st = statuses(date(2025, 2, 10))
    assert st["DPT1"].status == "not_yet" and st["DPT1"].due_date == date(2025, 3, 10)
    assert "MR1" not in statuses(date(2025, 9, 9), {}) and statuses(date(2025, 9, 10))["MR1"].status == "not_yet"


def test_a_series_dose_waits_for_the_previous_one_and_its_interval():
    on = date(2025, 3, 10)  # 2 months
    assert statuses(on)["POLIO2"].status == "not_yet"            # Polio 1 never given
    assert statuses(on)["POLIO1"].status == "overdue"
    late = date(2025, 3, 1)
    st = statuses(on, {"POLIO1": late})
    assert st["POLIO2"].status == "not_yet" and st["POLIO2"].due_date == late + timedelta(days=28)
    assert statuses(late + timedelta(days=28), {"POLIO1": late})["POLIO2"].status == "due"
    # the overdue clock starts at the effective due date, not at the age due date
    assert statuses(add_months(late + timedelta(days=28), 1), {"POLIO1": late})["POLIO2"].status == "due"


def test_boosters_need_their_longer_interval():
    primary = {"DPT1": date(2025, 3, 10), "DPT2": date(2025, 4, 10), "DPT3": date(2025, 5, 10),
               "MR1": date(2025, 10, 10)}
    st = statuses(date(2026, 7, 10), primary)          # 18 months
    assert st["DPT_LANJUT"].status == "due" and st["MR_LANJUT"].status == "due"
    late = dict(primary, DPT3=date(2025, 11, 10), MR1=date(2026, 3, 1))
    st = statuses(date(2026, 7, 10), late)
    assert "DPT_LANJUT" not in st  # twelve months after DPT 3 is 10 November, beyond the one-month horizon
    st = statuses(date(2026, 10, 10), late)
    assert st["DPT_LANJUT"].status == "not_yet" and st["DPT_LANJUT"].due_date == date(2026, 11, 10)
    st = statuses(date(2026, 7, 10), late)
    assert "MR_LANJUT" not in st  # six months after MR 1 is 28 August, beyond the one-month horizon
    st = statuses(date(2026, 8, 28), late)
    assert st["MR_LANJUT"].status == "due" and st["MR_LANJUT"].due_date == date(2026, 8, 28)


def test_given_doses_show_their_date_and_future_or_unknown_entries_are_ignored():
    st = statuses(date(2025, 1, 12), {"HB0": BIRTH, "BCG": date(2025, 1, 20), "TT": BIRTH})
    assert st["HB0"].status == "given" and st["HB0"].given_on == BIRTH
    assert st["BCG"].status == "due" and "TT" not in st


def test_je_only_where_applicable_or_already_given():
    on = date(2025, 11, 10)
    assert "JE" not in statuses(on)
    assert statuses(on, include_regional=True)["JE"].status == "due"
    assert statuses(on, {"JE": on})["JE"].status == "given"


def test_older_child_lists_every_missing_dose_as_overdue():
    st = statuses(date(2027, 1, 10))
    assert len(st) == 20 and {st[c].status for c in ("DPT1", "MR1", "PCV1")} == {"overdue"}
    assert {st[c].status for c in ("HB0", "BCG", "RV1", "RV2", "RV3")} == {"missed"}
    assert st["PCV3"].status == "not_yet"  # waits for PCV 2, which waits for PCV 1


def test_complete_basic_follows_the_idl_definition():
    basic = {c: BIRTH for c in ("HB0", "BCG", "POLIO1", "POLIO2", "POLIO3", "POLIO4", "DPT1", "DPT2", "DPT3",
                                "IPV1", "MR1")}
    assert complete_basic(basic) and complete_basic(set(basic))
    assert not complete_basic({c: d for c, d in basic.items() if c != "MR1"})
    assert not complete_basic({})


# ---- vitamin A and deworming ----

def born_months_before(on: date, months: int) -> date:
    return add_months(on, -months)


@pytest.mark.parametrize("months, expected", [(5, None), (6, "biru"), (11, "biru"), (12, "merah"), (59, "merah"),
                                              (60, None)])
def test_vitamin_a_by_age(months, expected):
    on = date(2026, 2, 15)
    birth = born_months_before(on, months)
    assert age_in_months(birth, on) == months
    assert vitamin_a_due(birth, on, []) == expected
    assert vitamin_a_due(birth, date(2026, 8, 15), []) in (None, "biru", "merah")


def test_vitamin_a_only_in_february_and_august_and_once_a_month():
    birth = date(2023, 1, 1)
    assert vitamin_a_due(birth, date(2026, 3, 1), []) is None
    assert vitamin_a_due(birth, date(2026, 8, 1), []) == "merah"
    assert vitamin_a_due(birth, date(2026, 8, 20), [date(2026, 8, 3)]) is None
    assert vitamin_a_due(birth, date(2026, 8, 20), [date(2026, 2, 3)]) == "merah"
    assert vitamin_a_due(birth, date(2026, 3, 1), [], months=(2, 3, 8, 9)) == "merah"  # sweeping month


def test_blue_capsule_is_given_once():
    birth = date(2024, 8, 28)
    assert vitamin_a_due(birth, date(2025, 2, 28), []) == "biru"      # 6 months
    assert vitamin_a_due(birth, date(2025, 8, 1), []) == "biru"       # 11 months, missed February
    assert vitamin_a_due(birth, date(2025, 8, 1), [date(2025, 2, 28)]) is None


@pytest.mark.parametrize("months, expected", [(11, None), (12, "albendazol_200"), (23, "albendazol_200"),
                                              (24, "albendazol_400"), (59, "albendazol_400"), (60, None)])
def test_deworming_by_age(months, expected):
    on = date(2026, 8, 10)
    assert deworming_due(born_months_before(on, months), on, []) == expected


def test_deworming_rounds():
    birth = date(2023, 1, 1)
    assert deworming_due(birth, date(2026, 2, 10), [date(2026, 2, 1)]) is None
    assert deworming_due(birth, date(2026, 7, 10), []) is None
    assert deworming_due(birth, date(2026, 2, 10), [], months=(8,)) is None


# ---- screening questionnaires ----

QS = load_questionnaires()


def test_all_questionnaires_load_once():
    assert set(QS) == {"tbc_anak", "tbc_dewasa", "puma", "skilas", "aks"}
    assert load_questionnaires() is QS
    for q in QS.values():
        assert q.version and q.title and q.questions and set(q.groups) <= set(GROUPS)
        for question in q.questions:
            assert question.text and len({o.value for o in question.options}) == len(question.options)


@pytest.mark.parametrize("code", ["tbc_anak", "tbc_dewasa", "puma", "skilas", "aks"])
def test_bands_cover_the_score_range_without_gaps_or_overlaps(code):
    q = QS[code]
    if q.method == "sum":
        low = sum(min(o.points for o in x.options) for x in q.questions)
        high = sum(max(o.points for o in x.options) for x in q.questions)
    elif q.method == "count_positive":
        low, high = 0, len(q.questions)
    else:
        low, high = 0, len(q.rules)
    for s in range(low, high + 1):
        assert sum(1 for b in q.bands if b.min <= s <= b.max) == 1, s
    assert min(b.min for b in q.bands) == low and max(b.max for b in q.bands) == high


def test_the_known_score_ranges():
    assert QS["aks"].score_range() == (0, 20) and QS["puma"].score_range() == (0, 9)
    assert QS["skilas"].score_range() == (0, 11) and QS["tbc_anak"].score_range() == (0, 5)
    assert QS["tbc_dewasa"].score_range() == (0, 2)
    skilas_domains = {x.domain for x in QS["skilas"].questions}
    assert skilas_domains == {"penurunan_kognitif", "keterbatasan_mobilisasi", "malnutrisi", "gangguan_penglihatan",
                              "gangguan_pendengaran", "gejala_depresi"}


@pytest.mark.parametrize("group, age_months, codes", [
    ("balita", 12, ["tbc_anak"]),
    ("usia_sekolah_remaja", 179, ["tbc_anak"]),
    ("usia_sekolah_remaja", 180, ["tbc_dewasa"]),
    ("ibu_hamil", 170, ["tbc_anak"]),
    ("ibu_hamil", 300, ["tbc_dewasa"]),
    ("dewasa", 479, ["tbc_dewasa"]),
    ("dewasa", 480, ["puma", "tbc_dewasa"]),
    ("lansia", 720, ["aks", "puma", "skilas", "tbc_dewasa"]),
])
def test_applicable(group, age_months, codes):
    assert [q.code for q in applicable(QS, group, age_months)] == codes


def all_answers(q, pick):
    return {x.id: pick(x) for x in q.questions}


def lowest(x):
    return min(x.options, key=lambda o: o.points).value


def highest(x):
    return max(x.options, key=lambda o: o.points).value


def answers_for(q, target):
    """Answers to a sum questionnaire that add up to target: start from the lowest, raise question by question."""
    answers, total = all_answers(q, lowest), 0
    for x in q.questions:
        best = max((o for o in x.options if total + o.points <= target), key=lambda o: o.points)
        answers[x.id], total = best.value, total + best.points
    assert total == target
    return answers


@pytest.mark.parametrize("score_, band, refer", [
    (0, "ketergantungan_total", True), (4, "ketergantungan_total", True), (5, "ketergantungan_berat", True),
    (8, "ketergantungan_berat", True), (9, "ketergantungan_sedang", True), (11, "ketergantungan_sedang", True),
    (12, "ketergantungan_ringan", True), (19, "ketergantungan_ringan", True), (20, "mandiri", False)])
def test_aks_bands(score_, band, refer):
    r = score(QS["aks"], answers_for(QS["aks"], score_))
    assert (r.score, r.band, r.refer, r.missing) == (score_, band, refer, [])
    assert r.code == "aks" and r.version == QS["aks"].version and r.label


@pytest.mark.parametrize("score_, band, refer", [(0, "risiko_rendah", False), (5, "risiko_rendah", False),
                                                 (6, "risiko_ppok", True), (9, "risiko_ppok", True)])
def test_puma_bands(score_, band, refer):
    r = score(QS["puma"], answers_for(QS["puma"], score_))
    assert (r.score, r.band, r.refer) == (score_, band, refer)


def test_puma_example():
    r = score(QS["puma"], {"jenis_kelamin": "L", "usia": "50_59", "merokok": "20_30", "napas_pendek": "ya",
                           "dahak": "tidak", "batuk": "ya", "spirometri": "tidak"})
    assert (r.score, r.refer) == (5, False)


@pytest.mark.parametrize("positives, band", [(0, "bukan_terduga"), (1, "bukan_terduga"), (2, "terduga_tbc"),
                                             (5, "terduga_tbc")])
def test_tbc_anak_needs_two_items(positives, band):
    q = QS["tbc_anak"]
    answers = {x.id: ("ya" if i < positives else "tidak") for i, x in enumerate(q.questions)}
    r = score(q, answers)
    assert (r.score, r.band, r.refer) == (positives, band, positives >= 2)
    assert r.positive == [x.id for x in q.questions[:positives]]


@pytest.mark.parametrize("yes, band, score_", [
    ([], "bukan_terduga", 0), (["batuk"], "terduga_tbc", 1), (["batuk_darah"], "terduga_tbc", 1),
    (["demam"], "bukan_terduga", 0), (["demam", "sesak"], "terduga_tbc", 1),
    (["keringat_malam", "berat_badan"], "terduga_tbc", 1), (["batuk", "demam", "sesak"], "terduga_tbc", 2)])
def test_tbc_dewasa_main_symptom_or_two_others(yes, band, score_):
    q = QS["tbc_dewasa"]
    r = score(q, {x.id: ("ya" if x.id in yes else "tidak") for x in q.questions})
    assert (r.band, r.score) == (band, score_)


def test_skilas_any_positive_item_refers():
    q = QS["skilas"]
    normal = {"kognitif_orientasi": "tidak", "kognitif_ulang": "tidak", "mobilisasi": "ya", "nutrisi_berat": "tidak",
              "nutrisi_nafsu": "tidak", "nutrisi_lila": "tidak", "penglihatan_keluhan": "tidak",
              "penglihatan_tes": "ya", "pendengaran": "ya", "depresi_sedih": "tidak", "depresi_minat": "tidak"}
    r = score(q, normal)
    assert (r.score, r.band, r.refer) == (0, "normal", False)
    for qid, value in [("mobilisasi", "tidak"), ("pendengaran", "tidak_dapat_dites"), ("depresi_minat", "ya"),
                       ("penglihatan_tes", "tidak")]:
        r = score(q, dict(normal, **{qid: value}))
        assert (r.score, r.band, r.refer, r.positive) == (1, "rujuk", True, [qid])
    r = score(q, dict(normal, penglihatan_keluhan="ya", penglihatan_tes="tidak_perlu"))
    assert r.positive == ["penglihatan_keluhan"]
    assert score(q, all_answers(q, highest)).score == 11


def test_missing_and_invalid_answers():
    q = QS["tbc_anak"]
    r = score(q, {"batuk": "ya", "demam": ""})
    assert r.missing == ["demam", "berat_badan", "lesu", "kontak"] and r.score == 1
    with pytest.raises(ValueError):
        score(q, {"batuk": "mungkin"})
    with pytest.raises(ValueError):
        score(q, {"batuk_keras": "ya"})


def test_a_questionnaire_directory_is_validated(tmp_path):
    raw = json.loads((DATA / "questionnaires" / "tbc_anak.json").read_text(encoding="utf-8"))
    (tmp_path / "x.json").write_text(json.dumps(dict(raw, code="x", version="test")), encoding="utf-8")
    assert list(load_questionnaires(tmp_path)) == ["x"]
    gap = tmp_path / "gap"
    gap.mkdir()
    raw["bands"][1]["min"] = 3
    (gap / "x.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValueError):
        load_questionnaires(gap)


# ---- counselling ----

FINDINGS = {"T", "2T", "BGM", "O", "stunted", "new_stunting", "wasted", "underweight", "overweight", "kek",
            "high_bp", "high_glucose", "obese", "anaemia_risk", "imunisasi_overdue", "vitamin_a_due",
            "tbc_suspect", "smoker", "lansia_dependent"}


def test_every_finding_has_a_topic_and_every_topic_is_usable():
    topics = load_topics()
    assert topics is load_topics() and FINDINGS <= topics.findings()
    for t in topics.topics:
        assert t.title and t.message and len(t.message) < 260 and set(t.groups) <= set(GROUPS)
    assert set(topics.defaults) == set(GROUPS)


@pytest.mark.parametrize("group, defaults", [
    ("balita", ["mp_asi", "pemantauan_pertumbuhan"]),
    ("ibu_hamil", ["tanda_bahaya_kehamilan", "ttd", "gizi_ibu_hamil"]),
    ("dewasa", ["germas_cerdik", "pola_makan"]),
    ("lansia", ["germas_cerdik", "pola_makan", "aktivitas_fisik"]),
])
def test_group_defaults_without_findings(group, defaults):
    assert [t.code for t in suggest_topics(set(), group)] == defaults


def test_finding_topics_come_first_in_a_fixed_order():
    codes = [t.code for t in suggest_topics({"stunted", "T", "tbc_suspect", "imunisasi_overdue"}, "balita")]
    assert codes == ["tbc_periksa", "berat_tidak_naik", "cegah_stunting", "protein_hewani", "imunisasi_lengkap",
                     "mp_asi", "pemantauan_pertumbuhan"]
    assert codes == [t.code for t in suggest_topics({"imunisasi_overdue", "tbc_suspect", "T", "stunted"}, "balita")]


def test_topics_follow_the_group_and_are_not_repeated():
    hamil = [t.code for t in suggest_topics({"high_bp", "kek"}, "ibu_hamil")]
    assert hamil == ["tanda_bahaya_kehamilan", "hipertensi_kehamilan", "kek_ibu_hamil", "ttd", "gizi_ibu_hamil"]
    dewasa = [t.code for t in suggest_topics({"high_bp", "kek", "smoker", "unknown_code"}, "dewasa")]
    assert dewasa == ["kek_wus", "hipertensi", "berhenti_merokok", "germas_cerdik", "pola_makan"]
    assert "pendampingan_lansia" in [t.code for t in suggest_topics({"lansia_dependent"}, "lansia")]
    with pytest.raises(ValueError):
        suggest_topics(set(), "bayi")


# ---- assessments ----

def test_bmi():
    assert a.bmi(60, 160) == 23.4 and a.bmi(64, 160) == 25.0
    with pytest.raises(ValueError):
        a.bmi(60, 0)


@pytest.mark.parametrize("value, category", [(16.9, "sangat_kurus"), (17.0, "kurus"), (18.4, "kurus"),
                                             (18.5, "normal"), (25.0, "normal"), (25.1, "gemuk"), (27.0, "gemuk"),
                                             (27.1, "obesitas")])
def test_bmi_category_adult(value, category):
    assert a.bmi_category_adult(value) == category


@pytest.mark.parametrize("s, d, category", [(119, 79, "normal"), (120, 70, "prehipertensi"),
                                            (110, 80, "prehipertensi"), (139, 89, "prehipertensi"),
                                            (140, 80, "hipertensi"), (130, 90, "hipertensi")])
def test_bp_category(s, d, category):
    assert a.bp_category(s, d) == category


def test_kek():
    assert a.kek(23.4, "ibu_hamil") and not a.kek(23.5, "ibu_hamil") and a.kek(20, "wus")
    with pytest.raises(ValueError):
        a.kek(20, "balita")


@pytest.mark.parametrize("muac, age, category", [(11.4, 6, "gizi_buruk"), (11.5, 12, "gizi_kurang"),
                                                 (12.4, 59, "gizi_kurang"), (12.5, 30, "normal"),
                                                 (11.0, 5, None), (11.0, 60, None)])
def test_balita_muac_category(muac, age, category):
    assert a.balita_muac_category(muac, age) == category


def test_waist_risk():
    assert not a.waist_risk(90, "L") and a.waist_risk(90.5, "L")
    assert not a.waist_risk(80, "P") and a.waist_risk(81, "P")
    with pytest.raises(ValueError):
        a.waist_risk(80, "X")


def test_glucose_category():
    assert a.glucose_category(199) == "normal" and a.glucose_category(200) == "tinggi"


@pytest.mark.parametrize("hb, group, sex, age, anaemic", [
    (10.9, "ibu_hamil", None, None, True), (11.0, "ibu_hamil", None, None, False),
    (10.9, "balita", None, 24, True), (11.0, "balita", None, 24, False),
    (11.4, "usia_sekolah_remaja", "L", 100, True), (11.5, "usia_sekolah_remaja", "L", 143, False),
    (11.9, "usia_sekolah_remaja", "L", 144, True), (12.0, "usia_sekolah_remaja", "P", 179, False),
    (12.9, "usia_sekolah_remaja", "L", 180, True), (12.0, "usia_sekolah_remaja", "P", 180, False),
    (11.9, "nifas", None, None, True), (12.9, "dewasa", "L", None, True), (13.0, "lansia", "L", None, False),
    (11.9, "dewasa", "P", None, True), (12.0, "dewasa", "P", None, False)])
def test_anaemia_hb(hb, group, sex, age, anaemic):
    assert a.anaemia_hb(hb, group, sex, age) is anaemic


def test_anaemia_needs_sex_and_age_where_the_cut_off_depends_on_them():
    for args in [(12, "dewasa"), (12, "usia_sekolah_remaja"), (12, "bayi")]:
        with pytest.raises(ValueError):
            a.anaemia_hb(*args)


# ---- loaders reject inconsistent data ----

def _write(tmp_path, name, raw):
    path = tmp_path / name
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize("change", [
    lambda r: r["doses"].append(dict(r["doses"][0])),                 # duplicate code
    lambda r: r["doses"][4].update(after="POLIO9"),                   # unknown previous dose
    lambda r: r["basic_complete"].append("XYZ"),                      # unknown dose in IDL
])
def test_schedule_loader_rejects_inconsistent_data(tmp_path, change):
    raw = json.loads((DATA / "immunisation_schedule.json").read_text(encoding="utf-8"))
    change(raw)
    with pytest.raises(ValueError):
        load_schedule(_write(tmp_path, "s.json", raw))


@pytest.mark.parametrize("change", [
    lambda r: r["questions"].append(dict(r["questions"][0])),                     # duplicate question
    lambda r: r["questions"][0]["options"].append(r["questions"][0]["options"][0]),  # repeated option
    lambda r: r["scoring"].update(method="average"),
    lambda r: r["scoring"]["rules"][0]["questions"].append("nope"),
    lambda r: r.update(groups=["bayi"]),
    lambda r: r["bands"][1].update(max=1),                                          # ends before the top score
])
def test_questionnaire_loader_rejects_inconsistent_data(tmp_path, change):
    raw = json.loads((DATA / "questionnaires" / "tbc_dewasa.json").read_text(encoding="utf-8"))
    change(raw)
    _write(tmp_path, "q.json", raw)
    with pytest.raises(ValueError):
        load_questionnaires(tmp_path)


def test_questionnaire_codes_are_unique_across_files(tmp_path):
    raw = json.loads((DATA / "questionnaires" / "aks.json").read_text(encoding="utf-8"))
    _write(tmp_path, "a.json", raw)
    _write(tmp_path, "b.json", raw)
    with pytest.raises(ValueError):
        load_questionnaires(tmp_path)


@pytest.mark.parametrize("change", [
    lambda r: r["topics"].append(dict(r["topics"][0])),
    lambda r: r["defaults"].update(bayi=["mp_asi"]),
    lambda r: r["defaults"]["balita"].append("nope"),
])
def test_topic_loader_rejects_inconsistent_data(tmp_path, change):
    raw = json.loads((DATA / "counselling_topics.json").read_text(encoding="utf-8"))
    change(raw)
    with pytest.raises(ValueError):
        load_topics(_write(tmp_path, "t.json", raw))
    with pytest.raises(KeyError):
        load_topics().topic("nope")


def test_doses_past_their_age_limit_are_missed_not_overdue():
    """A 25-month-old is not offered HB0 (first 7 days only) or rotavirus (WHO age limits)."""
    from datetime import date

    from posyandu.domain.immunisation import due_doses, load_schedule

    birth = date(2024, 1, 10)
    status = {d.code: d.status for d in due_doses(load_schedule(), birth, date(2026, 2, 12), {})}
    assert status["HB0"] == status["RV1"] == status["RV3"] == status["BCG"] == "missed"
    assert status["DPT1"] == "overdue" and status["MR1"] == "overdue"
    young = {d.code: d.status for d in due_doses(load_schedule(), birth, date(2024, 1, 14), {})}
    assert young["HB0"] == "due"
    assert {d.code: d.status for d in due_doses(load_schedule(), birth, date(2024, 1, 20), {})}["HB0"] == "missed"
