"""List version and maintained signature count on appeals; the PDF's freshness key.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = "0004"
branch_labels = None
depends_on = None

# The rule of signing/rules.py::counts, as it stands at this revision.
COUNTED = ("SELECT count(*) FROM signatures s WHERE s.appeal_id = appeals.id AND s.status = 'confirmed' "
           "AND s.review != 'rejected' AND s.merged_into_id IS NULL")


def upgrade():
    # The defaults fill the rows already there and go again: the models declare none.
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature_count', sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column('list_version', sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column('list_changed_at', sa.DateTime(), nullable=True))
    op.execute(f"UPDATE appeals SET signature_count = ({COUNTED})")
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.alter_column('signature_count', server_default=None)
        batch_op.alter_column('list_version', server_default=None)
    with op.batch_alter_table('pdf_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('freshness_key', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('pdf_documents', schema=None) as batch_op:
        batch_op.drop_column('freshness_key')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_column('list_changed_at')
        batch_op.drop_column('list_version')
        batch_op.drop_column('signature_count')
