"""reports.client_key: one report per submission, however often it is sent

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 10:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reports') as batch:
        batch.add_column(sa.Column('client_key', sa.String(length=64), nullable=True))
        batch.create_unique_constraint('uq_reports_client_key', ['client_key'])


def downgrade():
    with op.batch_alter_table('reports') as batch:
        batch.drop_constraint('uq_reports_client_key', type_='unique')
        batch.drop_column('client_key')
