"""The KPI page's figures as HTML, written in Python rather than in Jinja macros.

One KPI page shows about 1,600 figures (every agency, category, ward and week, 11 each); a
Jinja macro call per figure was most of the page's time (`bench/kpi_profile.py`): a row's
cells are now built by one call. The output is the markup the macros wrote: a number in the
Vietnamese style (1.234), linked to the back-office list of exactly the reports behind it.
"""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup, escape

from webapp.services.ioc.stats import Kpi

# The linked counts in the table's order: each is a column, a figure and a Kpi attribute.
LINKED = ("received", "resolved", "open", "overdue", "on_time", "late", "late_extension")


def number(value: int) -> str:
    """1234567 → "1.234.567"."""
    return f"{value:,}".replace(",", ".")


def figure(k: Kpi, name: str, value: int, queue_url: str) -> Markup:
    """A count, linked to its reports when it has any and the row has a list."""
    query = k.link_query(name)
    if query is None or not value:
        return Markup(number(value))
    href = escape(f"{queue_url}{query}")
    return Markup(f'<a href="{href}" data-figure="{name}">{number(value)}</a>')


def rate(k: Kpi) -> str:
    """The on-time rate, "87,5 %", or "—"."""
    if k.on_time_rate is None:
        return "—"
    return f"{k.on_time_rate * 100:.1f}".replace(".", ",") + " %"


def duration(seconds: float | None) -> str:
    """A median time in minutes, hours or days ("4,0 giờ"), or "—"."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{round(seconds / 60)} {_('phút')}"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}".replace(".", ",") + f" {_('giờ')}"
    return f"{seconds / 86400:.1f}".replace(".", ",") + f" {_('ngày')}"


def rating(k: Kpi) -> Markup:
    """The mean rating, "4,25/5 (12)", or "—"."""
    if k.rating_avg is None:
        return Markup("—")
    mean = f"{k.rating_avg:.2f}".replace(".", ",")
    return Markup(f"{mean}/5 <small>({k.rating_count})</small>")


def row_cells(k: Kpi, queue_url: str) -> Markup:
    """The 11 figure cells of one table row."""
    cells = []
    for name in LINKED:
        css = "num bad" if name == "overdue" and k.overdue else "num"
        value = figure(k, name, getattr(k, name), queue_url)
        cells.append(f'<td class="{css}" data-col="{name}">{value}</td>')
    cells.append(f'<td class="num" data-col="rate">{escape(rate(k))}</td>')
    first, resolution = duration(k.median_first_response_s), duration(k.median_resolution_s)
    cells.append(f'<td class="num" data-col="first_response">{escape(first)}</td>')
    cells.append(f'<td class="num" data-col="resolution">{escape(resolution)}</td>')
    cells.append(f'<td class="num" data-col="rating">{rating(k)}</td>')
    return Markup("\n      ".join(cells))
