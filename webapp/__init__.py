"""The Flask application factory."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request, session

from config.settings import check_secret_key, config_for
from webapp.extensions import babel, compress, csrf, db, migrate
from webapp.infra import logs, sentry

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def select_locale() -> str:
    """Vietnamese unless the visitor chose English (?lang=en, then remembered).

    Outside a request (a task, the bot) Vietnamese, unless `flask_babel.force_locale` says
    otherwise (`webapp.infra.i18n`).
    """
    if not has_request_context():
        return "vi"
    lang = request.args.get("lang")
    if lang in ("vi", "en"):
        session["lang"] = lang
        return lang
    return session.get("lang") or "vi"


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app for an environment (APP_ENV), with optional overrides for tests."""
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or None)
    app.config.from_object(config_for(config_name))
    if overrides:
        app.config.update(overrides)
    check_secret_key(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logs.init_app(app)
    sentry.init_app(app)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    compress.init_app(app)
    babel.init_app(app, locale_selector=select_locale)

    from workers.celery_app import celery_init_app

    celery_init_app(app)

    from webapp import auth, headers, http_errors, models, ratelimit, templating  # noqa: F401
    from webapp.blueprints.api import init_app as init_api
    from webapp.blueprints.backoffice import bp as bo_bp
    from webapp.blueprints.ioc import bp as ioc_bp
    from webapp.blueprints.open311 import init_app as init_open311
    from webapp.blueprints.public import bp as public_bp
    from webapp.blueprints.resident import bp as resident_bp
    from webapp.blueprints.transparency import bp as transparency_bp
    from webapp.blueprints.webhooks import init_app as init_webhooks
    from webapp.cli import register_cli
    from webapp.infra import metrics
    from webapp.services.ioc import rollup
    from webapp.services.messaging import channels, notifications, outbox

    auth.init_app(app)
    http_errors.register(app)
    templating.register(app)
    ratelimit.init_app(app)
    metrics.init_app(app)
    headers.init_app(app)
    channels.init_app(app)
    outbox.init_app(app)
    notifications.init_app(app)
    rollup.init_app(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(resident_bp)
    init_api(app)
    init_open311(app)
    app.register_blueprint(bo_bp, url_prefix="/bo")
    app.register_blueprint(ioc_bp, url_prefix="/ioc")
    app.register_blueprint(transparency_bp)
    init_webhooks(app)
    register_cli(app)
    return app
