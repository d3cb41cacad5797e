"""sweep indexes hold only reports whose clock runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

CLOCK = (
    " AND waiting_since IS NULL"
    " AND status IN ('assigned', 'in_progress', 'reopened', 'transferred')"
)
REMIND = "reminded_at IS NULL AND remind_at IS NOT NULL"
ESCALATE = "escalated_at IS NULL AND due_at IS NOT NULL"


def _recreate(remind: str, escalate: str) -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_remind_pending')
        batch_op.drop_index('ix_reports_escalate_pending')
        batch_op.create_index(
            'ix_reports_remind_pending', ['remind_at'], unique=False,
            postgresql_where=sa.text(remind), sqlite_where=sa.text(remind),
        )
        batch_op.create_index(
            'ix_reports_escalate_pending', ['due_at'], unique=False,
            postgresql_where=sa.text(escalate), sqlite_where=sa.text(escalate),
        )


def upgrade():
    _recreate(REMIND + CLOCK, ESCALATE + CLOCK)


def downgrade():
    _recreate(REMIND, ESCALATE)
