"""List version and maintained counts on appeals, an index for the list in confirmation order; the PDF's freshness key.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = "0006"
branch_labels = None
depends_on = None

# The rules of signing/rules.py (counting_clause, listing_clause("public_page"), organization_clause) as they stand at this revision.
COUNTED = ("SELECT count(*) FROM signatures s WHERE s.appeal_id = appeals.id AND s.status = 'confirmed' "
           "AND s.review != 'rejected' AND s.merged_into_id IS NULL")
LISTED = (f"{COUNTED} AND s.visibility != 'addressees' AND (s.visibility != 'anonymous' "
          "OR s.anonymous_display IN ('withheld', 'affiliation', 'country'))")
ORGANIZATIONS = f"{COUNTED} AND (s.kind = 'organization' OR s.level = 'official')"


def upgrade():
    # The defaults fill the rows already there and go again: the models declare none.
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature_count', sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column('public_count', sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column('organization_count', sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column('list_version', sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column('list_changed_at', sa.DateTime(), nullable=True))
    op.execute(f"UPDATE appeals SET signature_count = ({COUNTED}), public_count = ({LISTED}), "
               f"organization_count = ({ORGANIZATIONS})")
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.alter_column('signature_count', server_default=None)
        batch_op.alter_column('public_count', server_default=None)
        batch_op.alter_column('organization_count', server_default=None)
        batch_op.alter_column('list_version', server_default=None)
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.create_index('ix_signatures_appeal_confirmed', ['appeal_id', 'confirmed_at', 'id'], unique=False)
    with op.batch_alter_table('pdf_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('freshness_key', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('pdf_documents', schema=None) as batch_op:
        batch_op.drop_column('freshness_key')
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_index('ix_signatures_appeal_confirmed')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_column('list_changed_at')
        batch_op.drop_column('list_version')
        batch_op.drop_column('public_count')
        batch_op.drop_column('organization_count')
        batch_op.drop_column('signature_count')
