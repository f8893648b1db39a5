"""Anonymous display fixed per signature; removed PDF files; debounced PDF jobs; withdrawn rows scrubbed.

Existing anonymous signatures get the most private display ("count": counted, never listed), since
nobody knows which setting was in force when they signed. Withdrawn signatures lose their name,
affiliation and country (the rows stay as tombstones for counts); that cannot be undone by a downgrade.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymous_display", sa.String(length=20), nullable=True))
    with op.batch_alter_table("pdf_documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("removed_reason", sa.String(length=20), nullable=True))
    with op.batch_alter_table("pdf_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_before", sa.DateTime(), nullable=True))

    signatures = sa.table("signatures", sa.column("visibility", sa.String), sa.column("status", sa.String),
                          sa.column("anonymous_display", sa.String), sa.column("full_name", sa.String),
                          sa.column("affiliation", sa.String), sa.column("country", sa.String),
                          sa.column("name_key", sa.String), sa.column("flags", sa.JSON),
                          sa.column("organization_id", sa.Integer), sa.column("client_hash", sa.String),
                          sa.column("review_reason", sa.String), sa.column("vouch_note", sa.String))
    op.execute(signatures.update().where(signatures.c.visibility == "anonymous")
               .values(anonymous_display="count"))
    op.execute(signatures.update().where(signatures.c.status == "withdrawn").values(
        full_name="", affiliation="", country="", name_key="", flags=[], organization_id=None,
        client_hash=None, review_reason="", vouch_note=""))


def downgrade():
    with op.batch_alter_table("pdf_jobs", schema=None) as batch_op:
        batch_op.drop_column("not_before")
    with op.batch_alter_table("pdf_documents", schema=None) as batch_op:
        batch_op.drop_column("removed_reason")
        batch_op.drop_column("removed_at")
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.drop_column("anonymous_display")
