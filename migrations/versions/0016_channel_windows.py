"""channel windows: each resident's last Zalo message, which a free reply must quote

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 22:00:00

"""
import sqlalchemy as sa
from alembic import op

from webapp.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'channel_windows',
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('address', sa.String(length=200), nullable=False),
        sa.Column('last_message_id', sa.String(length=100), nullable=False),
        sa.Column('last_inbound_at', UTCDateTime(), nullable=False),
        sa.Column('used', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('channel', 'address'),
    )


def downgrade():
    op.drop_table('channel_windows')
