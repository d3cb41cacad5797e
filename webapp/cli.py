"""Operations as Flask CLI commands wrapping the same services the app and workers use."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AdminUnit
from webapp.services.administration import seed
from webapp.services.geography import demo_cells, geojson_reader, places

geo_cli = AppGroup("geo", help="Administrative boundaries.")
demo_cli = AppGroup("demo", help="Demo province data.")
deadlines_cli = AppGroup("deadlines", help="Reminders and escalations.")
sla_cli = AppGroup("sla", help="Service levels and the working calendar.")
nlu_cli = AppGroup("nlu", help="The Rasa NLU model: train, evaluate, ping, corrections.")
ioc_cli = AppGroup("ioc", help="The IOC's heatmap and KPIs.")

SHARED_GEO = Path(__file__).resolve().parents[2] / "shared" / "geo" / "wards.geojson.gz"


@geo_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--province", default=None, help="Only this province code (default: the app's).")
@click.option("--all-provinces", is_flag=True, help="Import every province in the file.")
def geo_import(file: str, province: str | None, all_provinces: bool) -> None:
    """Import official commune/ward boundaries from a GeoJSON file (.geojson or .gz)."""
    code = None if all_provinces else (province or current_app.config["PROVINCE_CODE"])
    shapes = geojson_reader.read_units_geojson(file, province_code=code)
    if not shapes:
        raise click.ClickException(f"No communes/wards for province {code} in {file}.")
    created, updated = places.import_units(shapes)
    click.echo(f"Imported {len(shapes)} units from {file}: {created} new, {updated} updated.")


@geo_cli.command("demo")
@click.option("--province", default=None)
def geo_demo(province: str | None) -> None:
    """Build approximate demo cells from ward centre points (vietnamadminunits package)."""
    code = province or current_app.config["PROVINCE_CODE"]
    shapes = demo_cells.approximate_units(code)
    created, updated = places.import_units(shapes)
    click.echo(f"Built {len(shapes)} APPROXIMATE demo cells: {created} new, {updated} updated.")


@geo_cli.command("ensure")
@click.pass_context
def geo_ensure(ctx: click.Context) -> None:
    """Load boundaries once: GEO_BOUNDARIES_FILE, else ../shared/geo, else approximate cells."""
    code = current_app.config["PROVINCE_CODE"]
    count = db.session.scalar(
        select(func.count()).select_from(AdminUnit).where(AdminUnit.parent_code == code)
    )
    if count:
        click.echo(f"Boundaries present: {count} communes/wards.")
        return
    source = current_app.config.get("GEO_BOUNDARIES_FILE") or (
        str(SHARED_GEO) if SHARED_GEO.exists() else None
    )
    if source:
        ctx.invoke(geo_import, file=source, province=code, all_provinces=False)
    else:
        ctx.invoke(geo_demo, province=code)


@demo_cli.command("seed")
@click.option(
    "--history-days",
    type=click.IntRange(0, 3650),
    default=0,
    help="Also add N days of realistic past reports (once: skipped when a history is there).",
)
@click.option("--reset", is_flag=True, help="Replace the history already there.")
def demo_seed(history_days: int, reset: bool) -> None:
    """Load categories, agencies, routing rules and demo users for the demo province."""
    province = current_app.config["PROVINCE_CODE"]
    click.echo(f"Categories: {seed.load_categories()}")
    click.echo(f"Agencies: {seed.load_agencies(province)}")
    users = seed.load_demo_users()
    if history_days:
        done = seed.load_history(history_days, reset=reset)
        if done.existing:
            click.echo(f"History: {done.existing} reports already there (--reset to replace).")
        else:
            statuses = ", ".join(f"{status} {n}" for status, n in done.by_status.items())
            click.echo(
                f"History: {done.created} reports over {history_days} days in "
                f"{done.seconds:.1f} s ({statuses})"
            )
    click.echo(f"Demo logins (password: {seed.DEMO_PASSWORD}):")
    for email, role in users:
        click.echo(f"  {email:34} {role}")


@deadlines_cli.command("scan")
def deadlines_scan() -> None:
    """Run the sweep once: reminders, escalations, unclassified reports, outbox retries."""
    from webapp.services.sla.sweep import run_sweep

    result = run_sweep()
    click.echo(
        f"reminded={result.reminded} escalated={result.escalated} "
        f"requeued={result.requeued} outbox_retried={result.retried}"
    )


@sla_cli.command("due")
@click.option("--category", required=True, help="Category code, e.g. road_damage.")
@click.option("--at", "at", required=True, help="Start time, ISO 8601 (local time if naive).")
@click.option("--urgency", type=click.Choice(["urgent", "normal", "complex"]), default=None)
def sla_due(category: str, at: str, urgency: str | None) -> None:
    """Print the due time the system would set for a report assigned at --at."""
    from datetime import datetime

    from config.settings import VN_TZ
    from webapp.models import Category
    from webapp.services.sla import calendar, deadlines

    cat = db.session.get(Category, category)
    if cat is None:
        raise click.ClickException(f"Unknown category {category}.")
    start = datetime.fromisoformat(at)
    if start.tzinfo is None:
        start = start.replace(tzinfo=VN_TZ)
    due = calendar.due_at(cat, urgency, start, deadlines.working_calendar())
    local = due.astimezone(VN_TZ)
    click.echo(f"{category} ({urgency or cat.default_urgency}) from {start.isoformat()}")
    click.echo(f"due {local.isoformat()}  ({local:%A %d/%m/%Y %H:%M} giờ Việt Nam)")


@nlu_cli.command("train")
@click.option("--force", is_flag=True, help="Train even if the data did not change.")
def nlu_train(force: bool) -> None:
    """Build the Rasa environment if needed and train when the data changed."""
    from nlu import manage

    manage.ensure_env()
    click.echo(f"Model: {manage.train(force=force)}")


@nlu_cli.command("evaluate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--url", default=None, help="Rasa server (default: RASA_URL).")
@click.option("--errors", is_flag=True, help="List the misclassified messages.")
def nlu_evaluate(files: tuple[str, ...], url: str | None, errors: bool) -> None:
    """Accuracy, macro-F1, per-class F1, confusions, parse latency; the routed share, its
    precision and the triage share at the configured threshold and for a range of thresholds;
    the calibration error, on JSON Lines files (several are scored together), each figure with
    its 95 % confidence interval."""
    from nlu import manage
    from nlu.evaluation import format_report

    report = manage.evaluate(
        [Path(file) for file in files],
        url or current_app.config["RASA_URL"],
        threshold=float(current_app.config["NLU_CONFIDENCE_THRESHOLD"]),
    )
    click.echo(format_report(report, show_errors=errors))


@nlu_cli.command("crossval")
@click.option("--folds", type=click.IntRange(2, 20), default=5, show_default=True)
@click.option(
    "--triage-budget",
    type=click.FloatRange(0, 1),
    default=None,
    help="Share of reports operators can triage (default: NLU_TRIAGE_BUDGET).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**32 - 1),
    default=0,
    show_default=True,
    help="How the folds are drawn (numpy's seed).",
)
def nlu_crossval(folds: int, triage_budget: float | None, seed: int) -> None:
    """Cross-validated figures on the training data (each fold scored by a model trained on
    the others): macro-F1, per class, the routing table, the calibration error, and the
    threshold the triage budget picks (the most precise one within it)."""
    from nlu.crossval import crossval
    from nlu.evaluation import format_report

    cfg = current_app.config
    threshold = float(cfg["NLU_CONFIDENCE_THRESHOLD"])
    budget = float(cfg["NLU_TRIAGE_BUDGET"] if triage_budget is None else triage_budget)
    click.echo(format_report(crossval(folds, threshold, budget, seed)))


@nlu_cli.command("ping")
def nlu_ping() -> None:
    """Check that the Rasa server answers with a model loaded."""
    from webapp.services.casework.classification import nlu_client

    url = current_app.config["RASA_URL"]
    if not nlu_client().ping():
        raise click.ClickException(f"No NLU server with a model at {url}.")
    click.echo(f"NLU server at {url}: ok")


@nlu_cli.command("export-corrections")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default="-")
def nlu_export_corrections(output: str) -> None:
    """Write operators' category corrections as Rasa training data, for review."""
    from webapp.services.casework import nlu_feedback

    items = nlu_feedback.corrections()
    text = nlu_feedback.to_rasa_yaml(items)
    if output == "-":
        click.echo(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"{len(items)} corrections written to {output}")


@nlu_cli.command("lookups")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None)
def nlu_lookups(out: Path | None) -> None:
    """Write the NLU's ward/street lookup tables from the province's imported units and its
    street lists (config/provinces/<code>/); then `flask nlu train`."""
    from nlu.tools import gen_lookups

    code = current_app.config["PROVINCE_CODE"]
    query = select(AdminUnit.name).where(AdminUnit.parent_code == code, AdminUnit.level == "ward")
    names = db.session.scalars(query.order_by(AdminUnit.code)).all()
    if not names:
        raise click.ClickException(f"No communes/wards for province {code}: flask geo ensure.")
    out = out or gen_lookups.LOOKUP_DIR
    source = f"the imported units of province {code}"
    wards, streets = gen_lookups.write_lookups(
        out,
        list(names),
        gen_lookups.load_street_names(code),
        source,
        gen_lookups.street_source(code),
    )
    click.echo(f"{len(wards)} wards, {len(streets)} streets -> {out}; then: flask nlu train")


@nlu_cli.command("retrain")
@click.option("--force", is_flag=True, help="Train even with fewer new corrections than needed.")
@click.option("--min-examples", type=click.IntRange(0), default=None, help="Override the setting.")
def nlu_retrain(force: bool, min_examples: int | None) -> None:
    """The learning loop now: a candidate trained with the corrections, scored against the
    serving model on the held-out split and the dev set, promoted only if not worse."""
    from webapp.services.nlu_models import retrain

    outcome = retrain.run(force=force, min_examples=min_examples)
    click.echo(f"{outcome.status}: {outcome.detail}")
    for url, answer in outcome.reloads.items():
        click.echo(f"  reload {url}: {answer}")


@nlu_cli.command("history")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def nlu_history(limit: int) -> None:
    """The models, newest first: state, examples learnt, figures per evaluation set, why."""
    from webapp.services.nlu_models import registry
    from webapp.services.nlu_models.report import format_history

    click.echo(format_history(registry.history(limit)))


@ioc_cli.command("rollup-rebuild")
def ioc_rollup_rebuild() -> None:
    """Rebuild the report rollup from the reports, in one transaction (after a COPY, psql…)."""
    import time

    from webapp.services.ioc.rollup.rebuild import rebuild

    started = time.perf_counter()
    rows = rebuild()
    db.session.commit()
    made = ", ".join(f"{table} {count:,}" for table, count in rows.items())
    click.echo(f"Rollup rebuilt in {time.perf_counter() - started:.1f} s: {made} rows.")


privacy_cli = AppGroup("privacy", help="Personal data: retention.")


@privacy_cli.command("retention")
def privacy_retention() -> None:
    """Run the retention job now (the beat runs it every night at 02:45)."""
    from webapp.services.privacy import retention

    run = retention.run()
    click.echo(
        f"Identities removed from {run.identities_removed} reports, originals of "
        f"{run.originals_removed} reports deleted, {run.codes_removed} spent codes removed."
    )


partners_cli = AppGroup("partners", help="Partner systems' API keys (Open311).")


@partners_cli.command("add")
@click.argument("name")
@click.option("--scope", "scope", required=True, help="submit, read, agency:<id> (comma-separated)")
def partners_add(name: str, scope: str) -> None:
    """Issue a key; it is printed once and never stored."""
    from webapp.services.partners import keys

    partner, key = keys.issue(name, scope.split(","))
    db.session.commit()
    click.echo(f"Partner {partner.id} {partner.name!r}, scopes {partner.scopes}")
    click.echo(f"API key (shown once): {key}")


@partners_cli.command("list")
def partners_list() -> None:
    """Every key: prefix, scopes, uses, last use, state."""
    from webapp.models import Partner

    for p in db.session.scalars(db.select(Partner).order_by(Partner.id)):
        state = "active" if p.active else f"revoked {p.revoked_at:%Y-%m-%d}"
        used = f"{p.last_used_at:%Y-%m-%d %H:%M}" if p.last_used_at else "never"
        click.echo(f"{p.id}\t{p.name}\t{p.key_prefix}…\t{p.scopes}\t{p.uses} uses\t{used}\t{state}")


@partners_cli.command("sync")
def partners_sync() -> None:
    """Pull now the updates of agencies that work in their own Open311 system."""
    from webapp.services.partners import delivery

    for code, applied in delivery.sync_all().items():
        click.echo(f"{code}: {'unreachable' if applied < 0 else f'{applied} updates applied'}")


@partners_cli.command("revoke")
@click.argument("partner_id", type=int)
def partners_revoke(partner_id: int) -> None:
    """Stop a key at once."""
    from webapp.models import Partner
    from webapp.services.partners import keys

    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise click.ClickException(f"no partner {partner_id}")
    keys.revoke(partner)
    db.session.commit()
    click.echo(f"Partner {partner.id} {partner.name!r} revoked.")


opendata_cli = AppGroup("opendata", help="The public open dataset (/du-lieu-mo).")


@opendata_cli.command("build")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: yesterday).")
def opendata_build(day: datetime | None) -> None:
    """Write the CSV and GeoJSON now (the beat does it every night at 03:15)."""
    from webapp.services.ioc import opendata

    meta = opendata.build(day.date() if day else None)
    click.echo(f"Open data: {meta['count']} reports from {meta['first_day']} to {meta['day']}.")


def register_cli(app: Flask) -> None:
    """Attach the command groups."""
    groups = (
        geo_cli,
        demo_cli,
        deadlines_cli,
        sla_cli,
        nlu_cli,
        ioc_cli,
        privacy_cli,
        partners_cli,
        opendata_cli,
    )
    for group in groups:
        app.cli.add_command(group)
