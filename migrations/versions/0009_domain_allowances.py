"""Sign-form anti-abuse: per-appeal allowances that raise the per-domain signing limit for an expected institution.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_domain_allowances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('per_window', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_sign_domain_allowances_appeal_id_appeals'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_domain_allowances')),
    sa.UniqueConstraint('appeal_id', 'domain', name='uq_sign_domain_allowances_appeal_domain')
    )
    with op.batch_alter_table('sign_domain_allowances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_domain_allowances_appeal_id'), ['appeal_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_domain_allowances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_domain_allowances_appeal_id'))
    op.drop_table('sign_domain_allowances')
