"""a key-only index for a ward's street cells

The ward view of the heatmap (`unit_code = ? GROUP BY h3_r10`) reads it in cell order and
never touches the table; see bench/heatmap_1m.py.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 19:50:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_unit_cells', ['unit_code', 'h3_r10', 'h3_r8'])


def downgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_unit_cells')
