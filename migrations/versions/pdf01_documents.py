"""PDF: letterhead settings, signed documents, render jobs.

Revision ID: pdf01
Revises: 0002
Create Date: 2026-11-23 17:33:30.741791

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "pdf01"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pdf_documents',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=20), nullable=False),
    sa.Column('variant', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('signatory_count', sa.Integer(), nullable=False),
    sa.Column('source_hash', sa.String(length=64), nullable=False),
    sa.Column('generated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_pdf_documents_appeal_id_appeals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pdf_documents'))
    )
    with op.batch_alter_table('pdf_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdf_documents_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pdf_documents_sha256'), ['sha256'], unique=False)

    op.create_table('pdf_settings',
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('coalition_name', sa.String(length=200), nullable=False),
    sa.Column('place', sa.String(length=120), nullable=False),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('logo_mime', sa.String(length=40), nullable=True),
    sa.Column('page_size', sa.String(length=10), nullable=False),
    sa.Column('columns', sa.Integer(), nullable=False),
    sa.Column('grouping', sa.String(length=10), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_pdf_settings_appeal_id_appeals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('appeal_id', name=op.f('pk_pdf_settings'))
    )
    op.create_table('pdf_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=20), nullable=False),
    sa.Column('variant', sa.String(length=20), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='jobstatus', native_enum=False, length=20), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('eta_seconds', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('document_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_pdf_jobs_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['pdf_documents.id'], name=op.f('fk_pdf_jobs_document_id_pdf_documents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pdf_jobs'))
    )
    with op.batch_alter_table('pdf_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdf_jobs_appeal_id'), ['appeal_id'], unique=False)



def downgrade():
    with op.batch_alter_table('pdf_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdf_jobs_appeal_id'))

    op.drop_table('pdf_jobs')
    op.drop_table('pdf_settings')
    with op.batch_alter_table('pdf_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdf_documents_sha256'))
        batch_op.drop_index(batch_op.f('ix_pdf_documents_appeal_id'))

    op.drop_table('pdf_documents')
