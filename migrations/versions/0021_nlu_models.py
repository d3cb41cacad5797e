"""nlu_models: the models the learning loop trained, their figures and which one serves

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 12:50:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from webapp.models.types import UTCDateTime

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'nlu_models',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('path', sa.String(length=500), nullable=False),
        sa.Column('base_hash', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('examples', sa.Integer(), nullable=False),
        sa.Column('corrections_upto', sa.Integer(), nullable=False),
        sa.Column('figures', JSON, nullable=True),
        sa.Column('compared_with_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_index('ix_nlu_models_state', 'nlu_models', ['state'])


def downgrade():
    op.drop_index('ix_nlu_models_state', table_name='nlu_models')
    op.drop_table('nlu_models')
