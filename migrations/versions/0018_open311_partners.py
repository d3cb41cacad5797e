"""open311 and partners: API keys, category questions and answers, agencies' own systems

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 06:10:00

"""
import sqlalchemy as sa
from alembic import op

from sqlalchemy.dialects import postgresql

from webapp.models.types import UTCDateTime

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'partners',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('key_prefix', sa.String(length=12), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('scopes', sa.String(length=200), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('uses', sa.Integer(), nullable=False),
        sa.Column('last_used_at', UTCDateTime(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('revoked_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key_hash'),
    )
    with op.batch_alter_table('categories') as batch:
        batch.add_column(sa.Column('questions', JSON, nullable=True))
    with op.batch_alter_table('agencies') as batch:
        batch.add_column(sa.Column('delivery', sa.String(length=20), nullable=False, server_default='backoffice'))
        batch.add_column(sa.Column('delivery_url', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('delivery_secret', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('delivery_synced_at', UTCDateTime(), nullable=True))
    with op.batch_alter_table('reports') as batch:
        batch.add_column(sa.Column('attributes', JSON, nullable=True))
        batch.add_column(sa.Column('external_id', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('external_synced_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('partner_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_reports_partner_id', 'partners', ['partner_id'], ['id'])


def downgrade():
    with op.batch_alter_table('reports') as batch:
        batch.drop_constraint('fk_reports_partner_id', type_='foreignkey')
        batch.drop_column('partner_id')
        batch.drop_column('external_synced_at')
        batch.drop_column('external_id')
        batch.drop_column('attributes')
    with op.batch_alter_table('agencies') as batch:
        for column in ('delivery_synced_at', 'delivery_secret', 'delivery_url', 'delivery'):
            batch.drop_column(column)
    with op.batch_alter_table('categories') as batch:
        batch.drop_column('questions')
    op.drop_table('partners')
