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


# --- the district's own certificate wording and commitment text -----------------------------------------------

def _issue(tree, key: str, kader):
    from posyandu.services import certificates

    kel = tree.posyandu[key].kelurahan
    admin = tree.users["admin_d" if kel.kecamatan.district is tree.districts["D"] else "admin_e"]
    return certificates.issue(admin, "piagam", kel, date.today(), "dr. Kepala", "Kepala Dinas", kader=kader)


def test_a_district_words_its_certificates_and_commitment_without_touching_another(app, tree, login):
    from posyandu.services import commitments

    from .kader_factories import kader_of

    old_d, old_e = certificate_of(tree, "A1"), certificate_of(tree, "C1")
    commitments.ensure_template(tree.users["admin_e"], tree.districts["E"].id, date.today().year)
    c = login("admin_d")
    page = c.get("/pengaturan/").get_data(as_text=True)
    assert "Piagam Penghargaan" in page and "Sebagai tanda terima kasih" in page  # the shipped texts, to edit
    e = login("admin_e")
    urls = {cert.id: f"/kader/sertifikat/{cert.id}/pdf" for cert in (old_d, old_e)}
    before = {old_d.id: c.get(urls[old_d.id]).get_data(), old_e.id: e.get(urls[old_e.id]).get_data()}
    e_text_before = commitments.current_template(tree.districts["E"].id, date.today().year).body

    bad = c.post("/pengaturan/", {"cert_piagam_body": "Untuk {nama}", "timely_days": "5"})
    assert bad.status_code == 422 and "{nama}" in bad.get_data(as_text=True)
    resp = c.post("/pengaturan/", {
        "timely_days": "5", "month_verify": "y",
        "cert_piagam_title": "Piagam Bupati Dee", "cert_piagam_body": "Terima kasih, {name}, dari {district}.",
        "cert_piagam_issuer_name": "H. Bupati Dee", "cert_piagam_issuer_title": "Bupati Dee",
        "commitment_title": "Janji Kader Dee", "commitment_body": "Saya berjanji hadir setiap hari buka."})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]
    db.session.expire_all()

    # D's new certificate reads D's words; E's, issued after the change, still the shipped ones.
    new_d = _issue(tree, "A1", kader_of(tree, "A1"))
    new_e = _issue(tree, "C1", kader_of(tree, "C1"))
    _, words_d = read(c.get(f"/kader/sertifikat/{new_d.id}/pdf").get_data())
    _, words_e = read(e.get(f"/kader/sertifikat/{new_e.id}/pdf").get_data())
    assert "PIAGAM BUPATI DEE" in words_d and "Terima kasih, Kader A1, dari Kota D." in words_d
    assert "PIAGAM PENGHARGAAN" in words_e and "Sebagai tanda terima kasih" in words_e and "Dee" not in words_e
    # Certificates already issued print the same bytes as before, in both districts.
    assert c.get(urls[old_d.id]).get_data() == before[old_d.id]
    assert e.get(urls[old_e.id]).get_data() == before[old_e.id]
    # The signer D set is typed in on D's issue form, not on E's.
    assert 'value="H. Bupati Dee"' in c.get(f"/kader/{kader_of(tree, 'A1').id}").get_data(as_text=True)
    assert "Bupati Dee" not in e.get(f"/kader/{kader_of(tree, 'C1').id}").get_data(as_text=True)
    # The commitment: D publishes a new version, E's text stays.
    year = date.today().year
    assert commitments.current_template(tree.districts["D"].id, year).title == "Janji Kader Dee"
    assert commitments.current_template(tree.districts["E"].id, year).body == e_text_before
    # Saving again unchanged publishes nothing new.
    versions = len(commitments.templates(tree.districts["D"].id))
    again = c.post("/pengaturan/", {"timely_days": "5", "commitment_title": "Janji Kader Dee",
                                    "commitment_body": "Saya berjanji hadir setiap hari buka."})
    assert again.status_code == 303 and len(commitments.templates(tree.districts["D"].id)) == versions
