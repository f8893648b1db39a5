"""Deliveries of a closed appeal to its addressees, and their replies.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('addressee_index', sa.Integer(), nullable=False),
    sa.Column('addressee_name', sa.String(length=200), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attachment_bytes', sa.Integer(), nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_deliveries_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_deliveries_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('appeal_id', 'addressee_index', 'revision_number', name='uq_deliveries_addressee_revision')
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveries_appeal_id'), ['appeal_id'], unique=False)

    op.create_table('delivery_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('stored_name', sa.String(length=64), nullable=True),
    sa.Column('file_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_delivery_replies_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_delivery_replies_created_by_id_users')),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_delivery_replies_delivery_id_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_replies'))
    )
    with op.batch_alter_table('delivery_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_replies_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_replies_delivery_id'), ['delivery_id'], unique=False)


def downgrade():
    with op.batch_alter_table('delivery_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_replies_delivery_id'))
        batch_op.drop_index(batch_op.f('ix_delivery_replies_appeal_id'))
    op.drop_table('delivery_replies')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_appeal_id'))
    op.drop_table('deliveries')
