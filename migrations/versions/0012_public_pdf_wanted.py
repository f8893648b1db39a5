"""Appeals remember that their public PDF is in use, so a confirmation needs no query to know it.

Set for every appeal that has a public standard PDF job already (what the count query answered before).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_pdf_wanted', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE appeals SET public_pdf_wanted = TRUE WHERE EXISTS (SELECT 1 FROM pdf_jobs WHERE "
               "pdf_jobs.appeal_id = appeals.id AND pdf_jobs.audience = 'public' AND pdf_jobs.variant = 'standard')")
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.alter_column('public_pdf_wanted', server_default=None)


def downgrade():
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_column('public_pdf_wanted')
