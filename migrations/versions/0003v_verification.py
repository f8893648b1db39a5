"""Duplicate pairs (candidate same-person signatures, merge/dismiss decisions); review-queue indexes.

A new table and two indexes on signatures; existing rows are untouched.

Revision ID: 0003v
Revises: pdf01
Create Date: 2026-11-23 17:45:57.034551

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003v'
down_revision = "pdf01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('duplicate_pairs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('first_id', sa.Integer(), nullable=False),
    sa.Column('second_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('state', sa.Enum('open', 'merged', 'dismissed', name='pairstate', native_enum=False, length=20), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_duplicate_pairs_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_duplicate_pairs_decided_by_id_users')),
    sa.ForeignKeyConstraint(['first_id'], ['signatures.id'], name=op.f('fk_duplicate_pairs_first_id_signatures'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['second_id'], ['signatures.id'], name=op.f('fk_duplicate_pairs_second_id_signatures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_pairs')),
    sa.UniqueConstraint('first_id', 'second_id', name='uq_duplicate_pairs_first_second')
    )
    with op.batch_alter_table('duplicate_pairs', schema=None) as batch_op:
        batch_op.create_index('ix_duplicate_pairs_appeal_state', ['appeal_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_duplicate_pairs_second_id'), ['second_id'], unique=False)

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.create_index('ix_signatures_appeal_review', ['appeal_id', 'review', 'status', 'level'], unique=False)
        batch_op.create_index('ix_signatures_merged_into_id', ['merged_into_id'], unique=False)



def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_index('ix_signatures_merged_into_id')
        batch_op.drop_index('ix_signatures_appeal_review')

    with op.batch_alter_table('duplicate_pairs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_pairs_second_id'))
        batch_op.drop_index('ix_duplicate_pairs_appeal_state')

    op.drop_table('duplicate_pairs')
