"""The district's long lists (issue 12): the registration-completeness report as XLSX beside its CSV, with the same
rows; the completeness list and the kit's due checks paginated like the other lists of the app."""
import csv
import io
import re
from datetime import date, timedelta

from openpyxl import load_workbook

from .test_assets import _item
from .test_posyandu_institution import _complete


def _names(html: str, prefix: str) -> list[str]:
    return re.findall(rf">({prefix}[A-C][12])</a>", html)


def test_the_completeness_xlsx_holds_the_same_rows_as_the_csv(tree, login):
    _complete(tree, "A1")
    tree.posyandu["B1"].registration_number = "=HYPERLINK(\"http://x\")"  # a typed value is never a formula
    admin = login("admin_d")
    page = admin.get("/lembaga/kelengkapan").get_data(as_text=True)
    assert "format=xlsx" in page and "format=csv" in page
    for query in ("", "&kurang=1"):
        csv_rows = list(csv.reader(io.StringIO(admin.get(f"/lembaga/kelengkapan?format=csv{query}")
                                               .get_data().decode("utf-8-sig"))))
        resp = admin.get(f"/lembaga/kelengkapan?format=xlsx{query}")
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        assert 'registrasi-posyandu-' in resp.headers["Content-Disposition"] and ".xlsx" in resp.headers[
            "Content-Disposition"]
        ws = load_workbook(io.BytesIO(resp.get_data())).active
        sheet = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(min_row=3, values_only=True)]
        assert sheet == csv_rows, query
        assert len(sheet) == (5 if not query else 4)  # header + 4 Posyandu of district D (A1 complete)
        assert "Kelengkapan registrasi Posyandu" in ws["A1"].value
        assert all(not str(v).startswith("=") for row in sheet for v in row)
    # The same rows give the same file (no time of download inside).
    assert admin.get("/lembaga/kelengkapan?format=xlsx").get_data() == \
        admin.get("/lembaga/kelengkapan?format=xlsx").get_data()
    # Another district's Posyandu are not in it.
    assert "Posyandu C1" not in str(sheet)


def test_the_completeness_list_is_paginated_and_the_counts_cover_every_posyandu(app, tree, login):
    app.config["PAGE_SIZE"] = 3
    _complete(tree, "A1")
    admin = login("admin_d")
    first = admin.get("/lembaga/kelengkapan").get_data(as_text=True)
    assert _names(first, "Posyandu ") == ["Posyandu A1", "Posyandu A2", "Posyandu B1"]
    assert "page=2" in first and "1 / 4" in first
    second = admin.get("/lembaga/kelengkapan?page=2").get_data(as_text=True)
    assert _names(second, "Posyandu ") == ["Posyandu B2"] and "1 / 4" in second and "page=1" in second
    # The filter travels with the pages.
    only = admin.get("/lembaga/kelengkapan?kurang=1").get_data(as_text=True)
    assert _names(only, "Posyandu ") == ["Posyandu A2", "Posyandu B1", "Posyandu B2"] and "page=2" not in only


def test_the_kit_totals_list_of_due_checks_is_paginated(app, tree, login):
    app.config["PAGE_SIZE"] = 2
    long_ago = date.today() - timedelta(days=800)
    for key in ("A1", "A2", "B1"):
        _item(tree, key, "baby_scale", long_ago, label=f"TB-{key}")
    admin = login("admin_d")
    first = admin.get("/inventaris/").get_data(as_text=True)
    assert "(3)" in first  # every due check counted
    assert "TB-A1" in first and "TB-A2" in first and "TB-B1" not in first and "page=2" in first
    second = admin.get("/inventaris/?page=2").get_data(as_text=True)
    assert "TB-B1" in second and "TB-A1" not in second and "page=1" in second
