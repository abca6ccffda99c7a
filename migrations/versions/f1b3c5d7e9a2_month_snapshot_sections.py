"""month snapshot sections: an approved month's large snapshot sections (the lists behind the numbers, the e-PPGBM
rows, the incentive inputs, the versions) move from one JSON column to a row each in posyandu_month_section, as the
zlib of their canonical JSON, and each list to a row of its own, so a reader loads only the section it needs and a
district's two years take megabytes, not gigabytes. The months approved before keep their content (and so their
hash): only where it is stored changes

Revision ID: f1b3c5d7e9a2
Revises: b15f2d8e4c63
Create Date: 2026-12-02 21:05:00

"""
import json
import zlib

from alembic import op
import sqlalchemy as sa

# services.month_snapshot when this was written
FIGURES = ("report", "trend", "kader")
SECTIONS = ("versions", "report", "trend", "kader", "lists", "eppgbm", "incentive")
SPLIT = ("lists",)

# revision identifiers, used by Alembic.
revision = 'f1b3c5d7e9a2'
down_revision = 'b15f2d8e4c63'
branch_labels = None
depends_on = None


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _pack(value) -> bytes:
    return zlib.compress(_canonical(value), 6)


def split(snapshot: dict) -> tuple[dict, dict]:
    """month_snapshot.split as written: (figures, {part name: packed section})."""
    small = {k: v for k, v in snapshot.items() if k in FIGURES or k not in SECTIONS}
    parts = {}
    for name, value in snapshot.items():
        if name in small:
            continue
        if name in SPLIT and isinstance(value, dict):
            parts[name] = _pack(sorted(value))
            parts.update({f"{name}/{key}": _pack(part) for key, part in value.items()})
        else:
            parts[name] = _pack(value)
    return small, parts


def assemble(small: dict, parts: dict) -> dict:
    out = dict(small)
    for name, data in parts.items():
        if "/" in name:
            continue
        value = json.loads(zlib.decompress(data))
        if name in SPLIT and isinstance(value, list):
            value = {key: json.loads(zlib.decompress(parts[f"{name}/{key}"])) for key in value}
        out[name] = value
    return out


def _json(value):
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def upgrade():
    op.create_table(
        'posyandu_month_section',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('posyandu_month_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['posyandu_month_id'], ['posyandu_month.id'],
                                name=op.f('fk_posyandu_month_section_posyandu_month_id_posyandu_month'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_posyandu_month_section')),
        sa.UniqueConstraint('posyandu_month_id', 'name', name='uq_posyandu_month_section'))
    conn = op.get_bind()
    table = sa.table('posyandu_month_section', sa.column('posyandu_month_id', sa.Integer),
                     sa.column('name', sa.String), sa.column('data', sa.LargeBinary))
    ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM posyandu_month WHERE snapshot IS NOT NULL "
                                              "ORDER BY id")).all()]
    for row_id in ids:  # one at a time: a snapshot of the older format is megabytes
        snapshot = _json(conn.execute(sa.text("SELECT snapshot FROM posyandu_month WHERE id = :i"),
                                      {"i": row_id}).scalar())
        small, parts = split(snapshot)
        conn.execute(sa.text("UPDATE posyandu_month SET figures = :f WHERE id = :i"),
                     {"f": json.dumps(small), "i": row_id})
        conn.execute(table.insert(), [{"posyandu_month_id": row_id, "name": n, "data": d}
                                      for n, d in sorted(parts.items())])
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of posyandu_month breaks the month-lock triggers, which name it.
    op.drop_column('posyandu_month', 'snapshot')


def downgrade():
    op.add_column('posyandu_month', sa.Column('snapshot', sa.JSON(), nullable=True))
    conn = op.get_bind()
    ids = [r[0] for r in conn.execute(sa.text("SELECT DISTINCT posyandu_month_id FROM posyandu_month_section "
                                              "ORDER BY posyandu_month_id")).all()]
    for row_id in ids:
        parts = dict(conn.execute(sa.text("SELECT name, data FROM posyandu_month_section "
                                          "WHERE posyandu_month_id = :i"), {"i": row_id}).all())
        small = _json(conn.execute(sa.text("SELECT figures FROM posyandu_month WHERE id = :i"),
                                   {"i": row_id}).scalar()) or {}
        snapshot = assemble(small, {n: bytes(d) for n, d in parts.items()})
        conn.execute(sa.text("UPDATE posyandu_month SET snapshot = :s, figures = :f WHERE id = :i"),
                     {"s": json.dumps(snapshot), "i": row_id,
                      "f": json.dumps({k: snapshot.get(k) for k in FIGURES})})
    op.drop_table('posyandu_month_section')
