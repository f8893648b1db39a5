"""Registry proofs: domains and contacts confirm nothing until proven; a domain may stand under several entries.

Existing domains and contacts become unproven (NULL proven_at): their owners send proof links. Every
level derived from them ("domain", "official") falls back to "email" until a proof raises it again;
downgrading does not restore those levels.

Revision ID: 0004
Revises: 0003v
Create Date: 2026-12-01 20:25:53.144232

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003v'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organization_domains', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proven_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('proof_nonce', sa.String(length=32), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_organization_domains_domain'), type_='unique')
        batch_op.create_index(batch_op.f('ix_organization_domains_domain'), ['domain'], unique=False)
        batch_op.create_unique_constraint('uq_organization_domains_org_domain', ['organization_id', 'domain'])

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_proven_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('contact_proof_nonce', sa.String(length=32), nullable=True))

    op.execute("UPDATE signatures SET level = 'email' WHERE level IN ('domain', 'official')")


def downgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('contact_proof_nonce')
        batch_op.drop_column('contact_proven_at')

    # The old schema allows one entry per domain: keep the proven (else the oldest) claim of each.
    op.execute("DELETE FROM organization_domains WHERE id NOT IN (SELECT id FROM (SELECT d.id FROM "
               "organization_domains d WHERE d.id = (SELECT e.id FROM organization_domains e WHERE "
               "e.domain = d.domain ORDER BY e.proven_at IS NULL, e.id LIMIT 1)) AS keep)")
    with op.batch_alter_table('organization_domains', schema=None) as batch_op:
        batch_op.drop_constraint('uq_organization_domains_org_domain', type_='unique')
        batch_op.drop_index(batch_op.f('ix_organization_domains_domain'))
        batch_op.create_unique_constraint(batch_op.f('uq_organization_domains_domain'), ['domain'])
        batch_op.drop_column('proof_nonce')
        batch_op.drop_column('proven_at')
