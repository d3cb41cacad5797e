"""heartbeats: workers' signs of life, the last sweep, the scheduler's lease

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 19:20:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from webapp.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'heartbeats',
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('seen_at', UTCDateTime(), nullable=False),
        sa.Column('holder', sa.String(length=200), nullable=True),
        sa.Column('expires_at', UTCDateTime(), nullable=True),
        sa.Column('info', JSON, nullable=True),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade():
    op.drop_table('heartbeats')
