"""covering indexes for the heatmap aggregation

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:45:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

HEAT = ["status", "category_code", "agency_id", "unit_code", "created_at", "due_at"]
OPEN = (
    "status IN ('assigned', 'classified', 'in_progress', 'needs_triage', 'received', "
    "'reopened', 'transferred')"
)


def upgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_heat_r6', ['h3_r6', 'h3_r8'], postgresql_include=HEAT)
        batch_op.create_index('ix_reports_heat_r8', ['h3_r8', 'h3_r10'], postgresql_include=HEAT)
        batch_op.create_index(
            'ix_reports_heat_open', ['h3_r6', 'h3_r8'], postgresql_include=HEAT,
            postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN),
        )
        batch_op.create_index(
            'ix_reports_heat_created', ['created_at'],
            postgresql_include=["h3_r6", "h3_r8", "status", "category_code", "agency_id",
                                "unit_code", "due_at"],
        )
        batch_op.create_index(
            'ix_reports_heat_unit', ['unit_code'],
            postgresql_include=["h3_r8", "h3_r10", "status", "category_code", "agency_id",
                                "created_at", "due_at"],
        )


def downgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        for name in ('ix_reports_heat_unit', 'ix_reports_heat_created', 'ix_reports_heat_open',
                     'ix_reports_heat_r8', 'ix_reports_heat_r6'):
            batch_op.drop_index(name)
