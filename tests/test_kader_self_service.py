"""Kader self-service: a kader with her own account sees her roles, stratum, commitment, certificates and slips —
only her own (another kader's slip or certificate is 404), and no staff money page opens for her."""
from datetime import date

import pytest
from pypdf import PdfReader
import io

from posyandu.extensions import db
from posyandu.models import IncentiveBatch, Kader, KaderAssessment
from posyandu.domain import competence
from posyandu.services import certificates, incentives, signers

from . import incentive_factories, kader_factories


@pytest.fixture
def mine(tree):
    """kader_a1's account linked to the kader of A1; a second kader in A1 ("Kader Lain") with her own
    certificate; last month's batch of kelurahan A approved (both are paid in it)."""
    t = tree
    me = kader_factories.kader_of(t, "A1", name="Sari Wulandari", nik="6474015504850001")
    signers.link_account(t.users["clerk_a"], me, t.users["kader_a1"])
    other = db.session.scalar(db.select(Kader).where(Kader.name == "Kader Satu"))
    kel = t.kelurahan["A"]
    t.my_cert = certificates.issue(t.users["admin_d"], "piagam", kel, date.today(), "dr. Kepala", "Kepala Dinas",
                                   kader=me)
    t.other_cert = certificates.issue(t.users["admin_d"], "piagam", kel, date.today(), "dr. Kepala", "Kepala Dinas",
                                      kader=other)
    batch = incentive_factories.batch_of(t, "A1")
    incentives.approve(_second_admin(t), batch)
    batch = db.session.get(IncentiveBatch, batch.id)
    t.my_line = next(ln for ln in batch.lines if ln.kader_id == me.id)
    t.other_line = next(ln for ln in batch.lines if ln.kader_id == other.id)
    t.me, t.other = me, other
    return t


def _second_admin(t):
    """A district admin of D who did not prepare the batch (four eyes)."""
    from posyandu.models import User
    from posyandu.services.accounts import hash_password

    from .conftest import PASSWORD

    u = User(username="admin_d2", display_name="Admin D2", role="district_admin", password_hash=hash_password(PASSWORD),
             district_id=t.districts["D"].id)
    db.session.add(u)
    db.session.commit()
    return u


def test_her_page_shows_her_roles_stratum_commitment_certificates_and_slips(mine, login):
    t = mine
    cat = competence.catalogue()
    for s in cat.skills:
        if s.group in ("manajemen", "balita", "ibu_hamil"):
            db.session.add(KaderAssessment(kader_id=t.me.id, skill_code=s.code, assessed_on=date.today(),
                                           assessor="Tim", passed=True, catalogue_version=cat.version))
    db.session.commit()
    c = login("kader_a1")
    html = c.get("/saya/").get_data(as_text=True)
    assert "Sari Wulandari" in html and "Posyandu A1" in html
    assert "Purwa" in html or "Madya" in html
    assert f"/saya/sertifikat/{t.my_cert.id}.pdf" in html and f"/saya/sertifikat/{t.other_cert.id}.pdf" not in html
    assert f"/saya/insentif/{t.my_line.id}/slip.pdf" in html and f"/saya/insentif/{t.other_line.id}/" not in html
    assert "Kader Satu" not in html
    resp = c.get(f"/saya/insentif/{t.my_line.id}/slip.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(resp.get_data())).pages[0].extract_text()
    assert "Sari Wulandari" in text and "Kader Satu" not in text
    resp = c.get(f"/saya/sertifikat/{t.my_cert.id}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"


def test_another_kaders_slip_and_certificate_are_404(mine, login):
    t = mine
    c = login("kader_a1")
    assert c.get(f"/saya/insentif/{t.other_line.id}/slip.pdf").status_code == 404
    assert c.get(f"/saya/sertifikat/{t.other_cert.id}.pdf").status_code == 404
    assert c.get("/saya/insentif/999999/slip.pdf").status_code == 404


def test_the_staff_money_pages_stay_closed_to_her(mine, login):
    t = mine
    c = login("kader_a1")
    batch_id = t.my_line.batch_id
    for url in ("/insentif/", f"/insentif/{batch_id}", f"/insentif/{batch_id}/slip.pdf",
                f"/insentif/{batch_id}/daftar.pdf", f"/insentif/{batch_id}/insentif.xlsx",
                f"/insentif/{batch_id}/transfer.csv", f"/insentif/{batch_id}/baris/{t.other_line.id}",
                "/insentif/kebijakan", f"/kader/sertifikat/{t.other_cert.id}/pdf", "/bpjs/"):
        assert c.get(url).status_code == 403, url


def test_a_draft_slip_is_not_hers_to_see_yet(tree, login):
    t = tree
    me = kader_factories.kader_of(t, "A1")
    signers.link_account(t.users["clerk_a"], me, t.users["kader_a1"])
    batch = incentive_factories.batch_of(t, "A1")
    line = next(ln for ln in batch.lines if ln.kader_id == me.id)
    c = login("kader_a1")
    assert c.get(f"/saya/insentif/{line.id}/slip.pdf").status_code == 404
    assert f"/saya/insentif/{line.id}/" not in c.get("/saya/").get_data(as_text=True)


def test_an_unlinked_account_sees_who_can_link_it_and_nothing_else(tree, login):
    t = tree
    cert = kader_factories.certificate_of(t, "A1")
    c = login("kader_a2")
    resp = c.get("/saya/")
    assert resp.status_code == 200 and "belum ditautkan" in resp.get_data(as_text=True)
    assert c.get(f"/saya/sertifikat/{cert.id}.pdf").status_code == 404
    assert login("clerk_a").get("/saya/").status_code == 403
