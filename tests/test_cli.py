"""Command-line tools: create-admin, seed-demo, backup and restore."""
from sqlalchemy import func, select, update

from posyandu.extensions import db
from posyandu.models import District, Measurement, Person, Posyandu, User
from posyandu.services.accounts import check_password


def test_seed_demo_builds_bontang_with_demo_accounts(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--children", "160", "--months", "3"])
    assert result.exit_code == 0, result.output
    assert "admin, admin2, kelurahan, bidan, ketua, kader" in result.output
    assert db.session.scalar(select(func.count()).select_from(Posyandu)) == 80
    kader, ketua = (db.session.scalar(select(User).where(User.username == u)) for u in ("kader", "ketua"))
    assert kader.posyandu_id == ketua.posyandu_id is not None
    assert check_password(kader.password_hash, "posyandu-demo")
    assert db.session.scalar(select(func.count()).select_from(Measurement)) > 160
    # Bulk inserts chose their own ids: the next ordinary insert must still get a free one (PostgreSQL sequences).
    db.session.add(Person(posyandu_id=kader.posyandu_id, name="Setelah Seed", sex="L", birth_date=kader.created_at.date()))
    db.session.commit()
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and db.session.scalar(select(func.count()).select_from(District)) == 1
    assert runner.invoke(args=["seed-demo"]).exit_code != 0  # never on top of real data


def test_seeded_growth_is_who_plausible_and_about_one_in_six_stunted(app):
    from posyandu.domain.growth import score_arrays
    from posyandu.domain.lifecycle import age_in_months  # noqa: F401
    import numpy as np

    # Two months: on the 1st of a month only the demo Posyandu has held this month's hari buka yet.
    app.test_cli_runner().invoke(args=["seed-demo", "--children", "2000", "--months", "2"])
    rows = db.session.execute(
        select(Person.sex, Person.birth_date, Measurement.measured_on, Measurement.weight_kg, Measurement.length_cm,
               Measurement.position).join(Person, Person.id == Measurement.person_id)
        .where(Measurement.length_cm.is_not(None))).all()  # the children's (adults' visits weigh without a length)
    sex = np.array([1 if r[0] == "L" else 2 for r in rows])
    age = np.array([(r[2] - r[1]).days for r in rows])
    z = score_arrays(sex, age, np.array([r[3] for r in rows]), np.array([r[4] for r in rows]),
                     np.array([r[5] for r in rows]))
    stunted = np.nanmean(z["lhaz"] < -2)
    assert 0.10 < stunted < 0.24, stunted
    assert np.nanmean(z["waz_flag"]) < 0.01 and np.nanmean(z["lhaz_flag"]) < 0.01


def test_create_admin(app, monkeypatch):
    answers = iter(["rahasia-panjang-1", "rahasia-panjang-1"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    result = app.test_cli_runner().invoke(args=["create-admin", "--username", "Dinkes", "--name", "Admin Dinkes",
                                                "--district", "Kabupaten Kutai Kartanegara"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "dinkes"))
    assert user.role == "district_admin" and user.district.name == "Kabupaten Kutai Kartanegara"


def test_backup_and_restore_sqlite(app, tmp_path, tree):
    if app.backend != "sqlite":
        return  # pg_dump/pg_restore are exercised by hand on the district server
    runner = app.test_cli_runner()
    target = tmp_path / "backup.sqlite"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    before = sorted(db.session.scalars(select(Person.name)))
    db.session.execute(update(Person).values(name="hilang"))  # a mistake made after the backup
    db.session.commit()
    db.session.remove()
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert sorted(db.session.scalars(select(Person.name))) == before


def test_growth_score_command(app, tmp_path):
    import csv

    source = tmp_path / "in.csv"
    source.write_text("sex,age_days,weight_kg,length_cm,measure,head_cm,muac_cm,oedema\n"
                      "1,730,11.5,85.0,l,47,15,n\n"
                      "2,,18.2,108,h,,,n\n"
                      "2,400,45,75,l,,,n\n")
    target = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(args=["growth", "score", str(source), str(target)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(target.open()))
    assert [r["sex"] for r in rows] == ["1", "2", "2"]
    assert rows[0]["waz"] and rows[0]["lhaz"] and rows[0]["whz_flag"] == "0"
    assert rows[1]["waz"] == ""  # no age: age-based indicators blank
    assert rows[2]["waz_flag"] == "1"  # 45 kg at 13 months is implausible
