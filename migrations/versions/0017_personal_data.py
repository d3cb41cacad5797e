"""personal data: consent version, removal markers, one-time contact codes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 05:30:00

"""
import sqlalchemy as sa
from alembic import op

from webapp.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reports') as batch:
        batch.add_column(sa.Column('consent_version', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('personal_data_removed_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('originals_removed_at', UTCDateTime(), nullable=True))
    op.create_table(
        'contact_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('address', sa.String(length=200), nullable=True),
        sa.Column('report_id', sa.Integer(), nullable=True),
        sa.Column('resident_id', sa.Integer(), nullable=True),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('used_at', UTCDateTime(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_contact_codes_report_id', 'contact_codes', ['report_id'])


def downgrade():
    op.drop_index('ix_contact_codes_report_id', table_name='contact_codes')
    op.drop_table('contact_codes')
    with op.batch_alter_table('reports') as batch:
        batch.drop_column('originals_removed_at')
        batch.drop_column('personal_data_removed_at')
        batch.drop_column('consent_version')
