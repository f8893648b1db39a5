"""Language versions remember being brought up to date after signing closed (their PDF and page say so).

The newly translatable parts (addressees, place, senders, salutations) live in appeal_translations.content,
JSON, and need no column.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appeal_translations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translated_after_close_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('appeal_translations', schema=None) as batch_op:
        batch_op.drop_column('translated_after_close_at')
