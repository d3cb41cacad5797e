"""reports.nlu_problems: the problems the NLU found in one message, for the operator to split

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 10:25:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reports') as batch:
        batch.add_column(sa.Column('nlu_problems', JSON, nullable=True))


def downgrade():
    with op.batch_alter_table('reports') as batch:
        batch.drop_column('nlu_problems')
