"""A district's own documents (issue 12): its header on every PDF it prints, its own certificate wording, and
nothing of it on another district's papers."""
from datetime import date

from posyandu.extensions import db

from .incentive_factories import batch_of
from .kader_factories import certificate_of, commitment_of
from .test_incentives_pdf import read

HEAD_D, HEAD_E = "Pemerintah Kabupaten Dee Makmur", "Pemerintah Kabupaten Eee Sejahtera"


def _headers(tree, login):
    """Each district names its government on /pengaturan/ (the form its admin uses)."""
    for admin, head in (("admin_d", HEAD_D), ("admin_e", HEAD_E)):
        resp = login(admin).post("/pengaturan/", {"government_name": head, "place_name": "", "trained_target_pct": "",
                                                  "stratum_rule": "", "timely_days": "5", "month_verify": "y"})
        assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]


def test_each_district_prints_its_own_header_on_its_incentive_documents(app, tree, login):
    d_batch, e_batch = batch_of(tree, "A1"), batch_of(tree, "C1")
    _headers(tree, login)
    for admin, batch, own, other in (("admin_d", d_batch, HEAD_D, HEAD_E), ("admin_e", e_batch, HEAD_E, HEAD_D)):
        c = login(admin)
        for doc in ("slip.pdf?per=4", "daftar.pdf", "kuitansi.pdf"):
            resp = c.get(f"/insentif/{batch.id}/{doc}")
            assert resp.status_code == 200, doc
            _, words = read(resp.get_data())
            assert own.upper() in words and other.upper() not in words, doc
            assert "Sumber dana APBD" in words, doc  # the policy's funding source, in the header


def test_the_header_heads_certificates_commitments_and_the_report_pdf(app, tree, login):
    cert, signed = certificate_of(tree, "A1"), commitment_of(tree, "A1")
    cert_e = certificate_of(tree, "C1")
    _headers(tree, login)
    c = login("admin_d")
    month = date.today().strftime("%Y-%m")
    for url in (f"/kader/sertifikat/{cert.id}/pdf", f"/kader/komitmen/{signed.id}/pdf",
                f"/laporan/posyandu/{tree.posyandu['A1'].id}/laporan.pdf?bulan={month}"):
        resp = c.get(url)
        assert resp.status_code == 200, url
        _, words = read(resp.get_data())
        assert HEAD_D.upper() in words and HEAD_E.upper() not in words, url
    _, words = read(login("admin_e").get(f"/kader/sertifikat/{cert_e.id}/pdf").get_data())
    assert HEAD_E.upper() in words and HEAD_D.upper() not in words
    db.session.expire_all()


def test_the_kader_page_and_her_own_page_share_the_certificate_code_through_a_service():
    """The self-service blueprint used to import the kader blueprint's private helpers (_cert_data, _pdf)."""
    from pathlib import Path

    import posyandu.blueprints.me.routes as me

    source = Path(me.__file__).read_text(encoding="utf-8")
    assert "kader.routes" not in source and "_cert_data" not in source
    from posyandu.services import documents

    assert me.documents is documents
