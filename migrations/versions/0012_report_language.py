"""report language: what the resident is told back in

The web form's or the bot's language at filing; notifications to the author are written in
it. Existing reports were all filed in Vietnamese.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 18:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reports') as batch_op:
        batch_op.add_column(
            sa.Column('language', sa.String(length=5), server_default='vi', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('reports') as batch_op:
        batch_op.drop_column('language')
