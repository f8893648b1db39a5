"""Signatures on behalf of an organization: the kind of signer, the organization's name, the signer's role.

Every existing signature was made by a person for themself (an organization could sign only by its
name typed as the full name, which stays as it was).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.Enum("person", "organization", name="signerkind",
                                                      native_enum=False, length=20),
                                      nullable=False, server_default="person"))
        batch_op.add_column(sa.Column("organization_name", sa.String(length=300), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("signer_role", sa.String(length=200), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.drop_column("signer_role")
        batch_op.drop_column("organization_name")
        batch_op.drop_column("kind")
