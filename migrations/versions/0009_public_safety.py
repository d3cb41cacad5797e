"""public safety: tracking tokens, hidden reports, sensitive categories, contact claims, blocks

A report's tracking link carries a random token; the public code alone shows the public
view. E-mails typed by residents are claims until confirmed. Locks apply to verified
identities and client addresses (keyed hashes only).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 12:00:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

from webapp.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tracking_token', sa.String(length=43), nullable=True))
        batch_op.add_column(sa.Column('public_hidden', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('client_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_reports_tracking_token', ['tracking_token'])
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sensitive', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('phone_verified_at', UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        'intake_blocks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('expires_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('report_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_intake_blocks_created_by_id_users')),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ondelete='SET NULL',
                                name=op.f('fk_intake_blocks_report_id_reports')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_blocks')),
        sa.UniqueConstraint('kind', 'key_hash', name=op.f('uq_intake_blocks_kind')),
    )
    # Reports made before tokens existed get one (their residents' old links keep the code).
    conn = op.get_bind()
    reports = sa.table('reports', sa.column('id', sa.Integer),
                       sa.column('tracking_token', sa.String))
    ids = [row[0] for row in conn.execute(sa.select(reports.c.id))]
    for report_id in ids:
        conn.execute(reports.update().where(reports.c.id == report_id)
                     .values(tracking_token=secrets.token_urlsafe(32)))


def downgrade():
    op.drop_table('intake_blocks')
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_column('phone_verified_at')
        batch_op.drop_column('email_confirmed_at')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('sensitive')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_constraint('uq_reports_tracking_token', type_='unique')
        batch_op.drop_column('client_hash')
        batch_op.drop_column('public_hidden')
        batch_op.drop_column('tracking_token')
