"""Structured letters, revisions, translations, members, audit, organizations, verification fields.

Existing appeals get revision 1 from their text; their addressee lines become a list; confirmed
signatures get the "email" verification level and point to revision 1.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:21:38.055253

"""
import hashlib
import json
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
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

    op.create_table('organizations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
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
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_domains_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_domains')),
    sa.UniqueConstraint('domain', name=op.f('uq_organization_domains_domain'))
    )
    with op.batch_alter_table('organization_domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organization_domains_organization_id'), ['organization_id'], unique=False)

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

    _addressee_lines_to_json()
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=300), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('demands', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('closing', sa.Text(), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('place', sa.String(length=200), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('letter_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('senders', sa.Text(), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('original_language', sa.String(length=16), nullable=False, server_default=sa.text("'en'")))
        batch_op.add_column(sa.Column('signature_goal', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('deadline', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('revision_count', sa.Integer(), nullable=False, server_default=sa.text("'0'")))
        batch_op.add_column(sa.Column('published_revision_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('visibility_default', sa.String(length=20), nullable=False, server_default=sa.text("'public'")))
        batch_op.add_column(sa.Column('visibility_choices', sa.JSON(), nullable=False, server_default=sa.text('\'["public", "addressees", "anonymous"]\'')))
        batch_op.add_column(sa.Column('anonymous_display', sa.String(length=20), nullable=False, server_default=sa.text("'withheld'")))
        batch_op.add_column(sa.Column('delivered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(), nullable=True))
        batch_op.alter_column('addressees', existing_type=sa.TEXT(), type_=sa.JSON(), existing_nullable=False,
                              postgresql_using='addressees::json')
        batch_op.create_index(batch_op.f('ix_appeals_status'), ['status'], unique=False)
        batch_op.create_foreign_key('fk_appeals_published_revision', 'appeal_revisions', ['published_revision_id'], ['id'], use_alter=True)

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country', sa.String(length=80), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('level', sa.Enum('unconfirmed', 'email', 'domain', 'vouched', 'official', name='level', native_enum=False, length=20), nullable=False, server_default=sa.text("'unconfirmed'")))
        batch_op.add_column(sa.Column('visibility', sa.Enum('public', 'addressees', 'anonymous', name='visibility', native_enum=False, length=20), nullable=False, server_default=sa.text("'public'")))
        batch_op.add_column(sa.Column('review', sa.Enum('unreviewed', 'approved', 'rejected', name='review', native_enum=False, length=20), nullable=False, server_default=sa.text("'unreviewed'")))
        batch_op.add_column(sa.Column('review_reason', sa.String(length=500), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('flags', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('name_key', sa.String(length=200), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('revision_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('consent_version', sa.String(length=32), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('source', sa.String(length=20), nullable=False, server_default=sa.text("'web'")))
        batch_op.add_column(sa.Column('organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('official', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('vouched_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('vouched_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('vouch_note', sa.String(length=500), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('client_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reconfirm_requested_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_signatures_appeal_status_level', ['appeal_id', 'status', 'level'], unique=False)
        batch_op.create_index(batch_op.f('ix_signatures_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_signatures_revision_id'), ['revision_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_signatures_revision_id_appeal_revisions'), 'appeal_revisions', ['revision_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_signatures_reviewed_by_id_users'), 'users', ['reviewed_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_signatures_vouched_by_id_users'), 'users', ['vouched_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_signatures_organization_id_organizations'), 'organizations', ['organization_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_signatures_merged_into_id_signatures'), 'signatures', ['merged_into_id'], ['id'], ondelete='SET NULL')

    _first_revisions()



def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_signatures_merged_into_id_signatures'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_signatures_organization_id_organizations'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_signatures_vouched_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_signatures_reviewed_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_signatures_revision_id_appeal_revisions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_signatures_revision_id'))
        batch_op.drop_index(batch_op.f('ix_signatures_name_key'))
        batch_op.drop_index('ix_signatures_appeal_status_level')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('reconfirm_requested_at')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('client_hash')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('vouch_note')
        batch_op.drop_column('vouched_at')
        batch_op.drop_column('vouched_by_id')
        batch_op.drop_column('official')
        batch_op.drop_column('organization_id')
        batch_op.drop_column('source')
        batch_op.drop_column('consent_version')
        batch_op.drop_column('revision_id')
        batch_op.drop_column('name_key')
        batch_op.drop_column('flags')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('review_reason')
        batch_op.drop_column('review')
        batch_op.drop_column('visibility')
        batch_op.drop_column('level')
        batch_op.drop_column('country')

    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_constraint('fk_appeals_published_revision', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_appeals_status'))
        batch_op.alter_column('addressees',
               existing_type=sa.JSON(),
               type_=sa.TEXT(),
               existing_nullable=False)
        batch_op.drop_column('archived_at')
        batch_op.drop_column('delivered_at')
        batch_op.drop_column('anonymous_display')
        batch_op.drop_column('visibility_choices')
        batch_op.drop_column('visibility_default')
        batch_op.drop_column('published_revision_id')
        batch_op.drop_column('revision_count')
        batch_op.drop_column('deadline')
        batch_op.drop_column('signature_goal')
        batch_op.drop_column('original_language')
        batch_op.drop_column('senders')
        batch_op.drop_column('letter_date')
        batch_op.drop_column('place')
        batch_op.drop_column('closing')
        batch_op.drop_column('demands')
        batch_op.drop_column('subject')

    with op.batch_alter_table('appeal_translations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_translations_appeal_id'))

    op.drop_table('appeal_translations')
    with op.batch_alter_table('organization_domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organization_domains_organization_id'))

    op.drop_table('organization_domains')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_appeal_id'))

    op.drop_table('audit_events')
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
    with op.batch_alter_table('appeal_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_templates_owner_id'))

    op.drop_table('appeal_templates')


CONTENT_FIELDS = ("title", "subject", "addressees", "body", "demands", "closing", "place", "letter_date", "senders")


def _hash(content):
    # A frozen copy of appeals.models.content_hash as it was when this migration was written.
    canonical = json.dumps({k: content.get(k) for k in CONTENT_FIELDS}, ensure_ascii=False, sort_keys=True,
                           separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _addressee_lines_to_json():
    conn = op.get_bind()
    for appeal_id, text in conn.execute(sa.text("SELECT id, addressees FROM appeals")).fetchall():
        lines = [{"name": line.strip()} for line in (text or "").splitlines() if line.strip()]
        conn.execute(sa.text("UPDATE appeals SET addressees = :a WHERE id = :i"),
                     {"a": json.dumps(lines, ensure_ascii=False), "i": appeal_id})


def _first_revisions():
    conn = op.get_bind()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = conn.execute(sa.text(
        "SELECT id, title, addressees, body, status, owner_id FROM appeals")).fetchall()
    for appeal_id, title, addressees, body, status, owner_id in rows:
        content = {"title": title, "subject": "", "addressees": json.loads(addressees or "[]")
                   if isinstance(addressees, str) else (addressees or []),
                   "body": body, "demands": [], "closing": "", "place": "", "letter_date": None, "senders": ""}
        digest = _hash(content)
        conn.execute(sa.text(
            "INSERT INTO appeal_revisions (appeal_id, number, content, content_hash, author_id, created_at) "
            "VALUES (:a, 1, :c, :h, :o, :t)"),
            {"a": appeal_id, "c": json.dumps(content, ensure_ascii=False), "h": digest, "o": owner_id, "t": now})
        revision_id = conn.execute(sa.text(
            "SELECT id FROM appeal_revisions WHERE appeal_id = :a AND number = 1"), {"a": appeal_id}).scalar()
        published = revision_id if status != "draft" else None
        conn.execute(sa.text("UPDATE appeals SET revision_count = 1, published_revision_id = :p WHERE id = :a"),
                     {"p": published, "a": appeal_id})
        # Same text in the new canonical form: the signatures keep pointing at what they signed.
        conn.execute(sa.text("UPDATE signatures SET revision_id = :r, text_hash = :h WHERE appeal_id = :a"),
                     {"r": revision_id, "h": digest, "a": appeal_id})
    conn.execute(sa.text("UPDATE signatures SET level = 'email' WHERE status = 'confirmed'"))
