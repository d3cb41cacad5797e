"""drop report indexes that a composite index already leads with

Every index of `reports` is written on each insert and on each update that is not HOT (the
sweep's stamps, every status change). These five repeat the first column of another index:
status (ix_reports_status_due_at), agency_id (ix_reports_agency_status), unit_code
(ix_reports_heat_unit), h3_r8 (ix_reports_heat_r8); channel is never searched on.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 18:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

DROPPED = {
    'ix_reports_channel': ['channel'],
    'ix_reports_status': ['status'],
    'ix_reports_agency_id': ['agency_id'],
    'ix_reports_unit_code': ['unit_code'],
    'ix_reports_h3_r8': ['h3_r8'],
}


def upgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        for name in DROPPED:
            batch_op.drop_index(name)


def downgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        for name, columns in DROPPED.items():
            batch_op.create_index(name, columns, unique=False)
