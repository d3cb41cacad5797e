"""The back office: agency queues, the report page and its actions, the IOC desk."""

from flask import Blueprint

bp = Blueprint("bo", __name__)

from webapp.blueprints.backoffice import (  # noqa: E402, F401
    account,
    admin,
    auth,
    budgets,
    desk,
    nlu_models,
    partners,
    privacy,
    reports,
)
