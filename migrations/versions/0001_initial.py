"""The whole schema in one step.

Accounts, appeals and their revisions, members, translations, audit log, organization registry, signatures,
duplicate pairs and PDF documents/jobs.

It replaces the earlier chain (0001, 0002, pdf01, 0003v, 0004-0008); the project had no deployment to migrate.
Enums are stored as short strings (native_enum=False) and every constraint is named by the metadata's naming
convention, so that batch mode can rebuild tables on SQLite.

Revision ID: 0001
Revises:
Create Date: 2026-12-01

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('appeal_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_appeal_templates_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_templates'))
    )
    with op.batch_alter_table('appeal_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_templates_owner_id'), ['owner_id'], unique=False)

    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('addressees', sa.JSON(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('demands', sa.JSON(), nullable=False),
    sa.Column('closing', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('letter_date', sa.Date(), nullable=True),
    sa.Column('senders', sa.Text(), nullable=False),
    sa.Column('original_language', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Enum('draft', 'open', 'closed', 'delivered', 'archived', name='appealstatus', native_enum=False, length=20), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('signature_goal', sa.Integer(), nullable=True),
    sa.Column('deadline', sa.DateTime(), nullable=True),
    sa.Column('revision_count', sa.Integer(), nullable=False),
    sa.Column('published_revision_id', sa.Integer(), nullable=True),
    sa.Column('visibility_default', sa.String(length=20), nullable=False),
    sa.Column('visibility_choices', sa.JSON(), nullable=False),
    sa.Column('anonymous_display', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_appeals_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals')),
    sa.UniqueConstraint('slug', name=op.f('uq_appeals_slug'))
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_status'), ['status'], unique=False)

    op.create_table('organizations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('contact_proven_at', sa.DateTime(), nullable=True),
    sa.Column('contact_proof_nonce', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_organizations_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations'))
    )
    op.create_table('appeal_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.Enum('owner', 'editor', 'reviewer', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_appeal_invitations_accepted_by_id_users')),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_invitations_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_appeal_invitations_invited_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_invitations'))
    )
    with op.batch_alter_table('appeal_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_invitations_appeal_id'), ['appeal_id'], unique=False)

    op.create_table('appeal_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('owner', 'editor', 'reviewer', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_members_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_appeal_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_members')),
    sa.UniqueConstraint('appeal_id', 'user_id', name='uq_appeal_members_user')
    )
    with op.batch_alter_table('appeal_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_members_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_members_user_id'), ['user_id'], unique=False)

    op.create_table('appeal_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_revisions_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_appeal_revisions_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_revisions')),
    sa.UniqueConstraint('appeal_id', 'number', name='uq_appeal_revisions_number')
    )
    with op.batch_alter_table('appeal_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_revisions_appeal_id'), ['appeal_id'], unique=False)
    # appeals and appeal_revisions point at each other: the appeal's link to its published text comes second.
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_appeals_published_revision', 'appeal_revisions', ['published_revision_id'], ['id'])

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_audit_events_appeal_id_appeals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_created_at'), ['created_at'], unique=False)

    op.create_table('organization_domains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('proven_at', sa.DateTime(), nullable=True),
    sa.Column('proof_nonce', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_domains_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_domains')),
    sa.UniqueConstraint('organization_id', 'domain', name='uq_organization_domains_org_domain')
    )
    with op.batch_alter_table('organization_domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organization_domains_domain'), ['domain'], unique=False)
        batch_op.create_index(batch_op.f('ix_organization_domains_organization_id'), ['organization_id'], unique=False)

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
    sa.Column('removed_at', sa.DateTime(), nullable=True),
    sa.Column('removed_reason', sa.String(length=20), nullable=True),
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
    op.create_table('appeal_translations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('source_revision_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_translations_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_appeal_translations_approved_by_id_users')),
    sa.ForeignKeyConstraint(['source_revision_id'], ['appeal_revisions.id'], name=op.f('fk_appeal_translations_source_revision_id_appeal_revisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_translations')),
    sa.UniqueConstraint('appeal_id', 'language', name='uq_appeal_translations_language')
    )
    with op.batch_alter_table('appeal_translations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_translations_appeal_id'), ['appeal_id'], unique=False)

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
    sa.Column('not_before', sa.DateTime(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_pdf_jobs_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['pdf_documents.id'], name=op.f('fk_pdf_jobs_document_id_pdf_documents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pdf_jobs'))
    )
    with op.batch_alter_table('pdf_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pdf_jobs_appeal_id'), ['appeal_id'], unique=False)

    op.create_table('signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('affiliation', sa.String(length=300), nullable=False),
    sa.Column('country', sa.String(length=80), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=True),
    sa.Column('email_encrypted', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'withdrawn', name='signaturestatus', native_enum=False, length=20), nullable=False),
    sa.Column('level', sa.Enum('unconfirmed', 'email', 'domain', 'vouched', 'official', name='level', native_enum=False, length=20), nullable=False),
    sa.Column('visibility', sa.Enum('public', 'addressees', 'anonymous', name='visibility', native_enum=False, length=20), nullable=False),
    sa.Column('review', sa.Enum('unreviewed', 'approved', 'rejected', name='review', native_enum=False, length=20), nullable=False),
    sa.Column('review_reason', sa.String(length=500), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=True),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('consent_version', sa.String(length=32), nullable=False),
    sa.Column('consent_at', sa.DateTime(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('official', sa.Boolean(), nullable=False),
    sa.Column('vouched_by_id', sa.Integer(), nullable=True),
    sa.Column('vouched_at', sa.DateTime(), nullable=True),
    sa.Column('vouch_note', sa.String(length=500), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('client_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('reminded_at', sa.DateTime(), nullable=True),
    sa.Column('reconfirm_requested_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('anonymous_display', sa.String(length=20), nullable=True),
    sa.Column('kind', sa.Enum('person', 'organization', name='signerkind', native_enum=False, length=20), nullable=False),
    sa.Column('organization_name', sa.String(length=300), nullable=False),
    sa.Column('signer_role', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_signatures_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['signatures.id'], name=op.f('fk_signatures_merged_into_id_signatures'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_signatures_organization_id_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_signatures_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['revision_id'], ['appeal_revisions.id'], name=op.f('fk_signatures_revision_id_appeal_revisions')),
    sa.ForeignKeyConstraint(['vouched_by_id'], ['users.id'], name=op.f('fk_signatures_vouched_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signatures')),
    sa.UniqueConstraint('appeal_id', 'email_hash', name='uq_signatures_appeal_email')
    )
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signatures_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index('ix_signatures_appeal_review', ['appeal_id', 'review', 'status', 'level'], unique=False)
        batch_op.create_index('ix_signatures_appeal_status_level', ['appeal_id', 'status', 'level'], unique=False)
        batch_op.create_index('ix_signatures_merged_into_id', ['merged_into_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signatures_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_signatures_revision_id'), ['revision_id'], unique=False)

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



def downgrade():
    with op.batch_alter_table('duplicate_pairs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_pairs_second_id'))
        batch_op.drop_index('ix_duplicate_pairs_appeal_state')

    op.drop_table('duplicate_pairs')
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signatures_revision_id'))
        batch_op.drop_index(batch_op.f('ix_signatures_name_key'))
        batch_op.drop_index('ix_signatures_merged_into_id')
        batch_op.drop_index('ix_signatures_appeal_status_level')
        batch_op.drop_index('ix_signatures_appeal_review')
        batch_op.drop_index(batch_op.f('ix_signatures_appeal_id'))

    op.drop_table('signatures')
    with op.batch_alter_table('pdf_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdf_jobs_appeal_id'))

    op.drop_table('pdf_jobs')
    with op.batch_alter_table('appeal_translations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_translations_appeal_id'))

    op.drop_table('appeal_translations')
    op.drop_table('pdf_settings')
    with op.batch_alter_table('pdf_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pdf_documents_sha256'))
        batch_op.drop_index(batch_op.f('ix_pdf_documents_appeal_id'))

    op.drop_table('pdf_documents')
    with op.batch_alter_table('organization_domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organization_domains_organization_id'))
        batch_op.drop_index(batch_op.f('ix_organization_domains_domain'))

    op.drop_table('organization_domains')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_appeal_id'))

    op.drop_table('audit_events')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_constraint('fk_appeals_published_revision', type_='foreignkey')
    with op.batch_alter_table('appeal_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_revisions_appeal_id'))

    op.drop_table('appeal_revisions')
    with op.batch_alter_table('appeal_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_appeal_members_appeal_id'))

    op.drop_table('appeal_members')
    with op.batch_alter_table('appeal_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_invitations_appeal_id'))

    op.drop_table('appeal_invitations')
    op.drop_table('organizations')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeals_status'))

    op.drop_table('appeals')
    with op.batch_alter_table('appeal_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_templates_owner_id'))

    op.drop_table('appeal_templates')
    op.drop_table('users')
