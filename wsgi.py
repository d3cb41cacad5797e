"""WSGI entry point: `waitress-serve --call webapp:create_app` or FLASK_APP=wsgi."""

from webapp import create_app

app = create_app()
