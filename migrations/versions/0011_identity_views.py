"""identity views: who looked at which resident's identity, when, on which report

Every time a staff member is shown a resident's name, phone, e-mail or messenger id, a row
is written; administrators read the list. Kept apart from the audit trail of changes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 16:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from webapp.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'identity_views',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('report_id', sa.Integer(), nullable=True),
        sa.Column('report_code', sa.String(length=20), nullable=True),
        sa.Column('resident_id', sa.Integer(), nullable=True),
        sa.Column('context', sa.String(length=20), nullable=False),
        sa.Column('fields', JSON, nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_identity_views_user_id_users')),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ondelete='SET NULL',
                                name=op.f('fk_identity_views_report_id_reports')),
        sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], ondelete='SET NULL',
                                name=op.f('fk_identity_views_resident_id_residents')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_views')),
    )
    with op.batch_alter_table('identity_views', schema=None) as batch_op:
        batch_op.create_index('ix_identity_views_user_created', ['user_id', 'created_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_identity_views_created_at'), ['created_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_identity_views_report_id'), ['report_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_identity_views_resident_id'), ['resident_id'],
                              unique=False)


def downgrade():
    op.drop_table('identity_views')
