"""Invitations can be revoked by an owner or replaced by a newer one to the same address.

A revoked invitation keeps its row (the audit log and the answer to its link name it), so an id is never
given to a new invitation while an old link to it is still in someone's mailbox.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("appeal_invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("appeal_invitations", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
