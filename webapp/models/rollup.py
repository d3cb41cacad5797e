"""The report rollup: counts of reports by cell, day, status, category…, kept by the session.

Three tables, each row a sum over the reports with one key (webapp/services/ioc/rollup):

- `report_cell_counts`: the heatmap's province view, per H3 r6 cell;
- `report_kpi_counts`: the KPI figures, per agency, category, ward, or all together;
- `report_kpi_times`: histograms of the times to first response and to resolution, for the
  KPI medians (a count and a sum of milliseconds per bucket).

Every key starts with a grain and a period: `d` a local day, `w` the week from its Monday,
`m` the month from its 1st (and `a` all time, for the cells). A report counts once in each
grain, so a span of days is read as whole months, whole weeks and the days left over.
Keys never hold NULL (an upsert matches NULLs on no backend): '' stands for none.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model

# Buckets of the time histograms (their bounds: webapp.services.ioc.rollup.keys.THRESHOLDS_MS).
TIME_BUCKETS = 64


class ReportCellCount(Model):
    """Reports per (grain, period, status, category, r6 cell, resolved, due day)."""

    __tablename__ = "report_cell_counts"

    # Key in this order: the views' filters (status, category) narrow the primary key's range.
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    category_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    h3_r6: Mapped[str] = mapped_column(String(16), primary_key=True)
    resolved: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    # Open reports: the local day of due_at (an early date once already past); others: a late one.
    due: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class ReportKpiCount(Model):
    """Reports per (dimension, grain, period, key, open, outcome, due day), with ratings."""

    __tablename__ = "report_kpi_counts"

    dim: Mapped[str] = mapped_column(String(10), primary_key=True)  # all|agency|category|unit
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    open: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)  # '' when unresolved
    due: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    rating_n: Mapped[int] = mapped_column(Integer, default=0)


class ReportKpiTime(Model):
    """A histogram of one kind of time (f: first response, r: resolution) per key."""

    __tablename__ = "report_kpi_times"

    dim: Mapped[str] = mapped_column(String(10), primary_key=True)
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(1), primary_key=True)


# n_0…n_63: reports whose time falls in the bucket; s_0…s_63: the sum of their times (ms).
# NULL where none (most buckets of most rows): a NULL takes no room in the row.
for _i in range(TIME_BUCKETS):
    setattr(ReportKpiTime, f"n_{_i}", mapped_column(f"n_{_i}", Integer, nullable=True))
    setattr(ReportKpiTime, f"s_{_i}", mapped_column(f"s_{_i}", BigInteger, nullable=True))
