"""report rollup: counts by cell, day, status, category… for the heatmap and the KPIs

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 10:00:00

The session keeps the rollup in step with every write of a report (webapp/services/ioc/rollup).
A TRUNCATE of reports empties it too (PostgreSQL trigger). On a database that already holds
reports it starts empty and unused until `flask ioc rollup-rebuild` fills it; on an empty one
it is complete at once (marked so in cache_versions).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

TIME_BUCKETS = 64
MARKER = 'report_rollup'
TABLES = ('report_cell_counts', 'report_kpi_counts', 'report_kpi_times')


def _period_columns():
    return [
        sa.Column('grain', sa.String(length=1), nullable=False),
        sa.Column('period', sa.Date(), nullable=False),
    ]


def upgrade():
    op.create_table(
        'report_cell_counts',
        *_period_columns(),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('category_code', sa.String(length=40), nullable=False),
        sa.Column('h3_r6', sa.String(length=16), nullable=False),
        sa.Column('resolved', sa.Boolean(), nullable=False),
        sa.Column('due', sa.Date(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            'grain', 'period', 'status', 'category_code', 'h3_r6', 'resolved', 'due',
            name=op.f('pk_report_cell_counts'),
        ),
    )
    op.create_table(
        'report_kpi_counts',
        sa.Column('dim', sa.String(length=10), nullable=False),
        *_period_columns(),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('open', sa.Boolean(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('due', sa.Date(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('rating_sum', sa.Integer(), nullable=False),
        sa.Column('rating_n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            'dim', 'grain', 'period', 'key', 'open', 'outcome', 'due',
            name=op.f('pk_report_kpi_counts'),
        ),
    )
    buckets = []
    for i in range(TIME_BUCKETS):
        buckets.append(sa.Column(f'n_{i}', sa.Integer(), nullable=True))
        buckets.append(sa.Column(f's_{i}', sa.BigInteger(), nullable=True))
    op.create_table(
        'report_kpi_times',
        sa.Column('dim', sa.String(length=10), nullable=False),
        *_period_columns(),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=1), nullable=False),
        *buckets,
        sa.PrimaryKeyConstraint(
            'dim', 'grain', 'period', 'key', 'kind', name=op.f('pk_report_kpi_times')
        ),
    )
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute(
            'CREATE FUNCTION report_rollup_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ '
            f'BEGIN TRUNCATE {", ".join(TABLES)}; RETURN NULL; END $$'
        )
        op.execute(
            'CREATE TRIGGER reports_truncate_rollup AFTER TRUNCATE ON reports '
            'FOR EACH STATEMENT EXECUTE FUNCTION report_rollup_truncate()'
        )
    if bind.execute(sa.text('SELECT NOT EXISTS (SELECT 1 FROM reports)')).scalar():
        op.execute(
            sa.text('INSERT INTO cache_versions (name, version) VALUES (:name, 1)').bindparams(
                name=MARKER
            )
        )


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS reports_truncate_rollup ON reports')
        op.execute('DROP FUNCTION IF EXISTS report_rollup_truncate()')
    op.execute(sa.text('DELETE FROM cache_versions WHERE name = :name').bindparams(name=MARKER))
    for table in reversed(TABLES):
        op.drop_table(table)
