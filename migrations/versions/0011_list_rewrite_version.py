"""Appeals remember the list version of the last change that was not a new confirmation (a rewrite).

Between rewrites a list only grows by newly confirmed signatures, so a PDF worker may bring the list it read
last up to date by reading those alone (petitions/pdf/listing.py). Existing appeals start at 0, i.e. "unknown":
their first read after this migration is a whole read, as every read before it was.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('list_rewrite_version', sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.alter_column('list_rewrite_version', server_default=None)


def downgrade():
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_column('list_rewrite_version')
