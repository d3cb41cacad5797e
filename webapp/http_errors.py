"""The one place where domain errors become HTTP responses."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import get_locale

from webapp.errors import DomainError


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register(app: Flask) -> None:
    """Install the error handlers."""

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        locale = str(get_locale() or "vi")
        if _wants_json():
            return jsonify(error.to_dict(locale)), error.status_code
        return (
            render_template("error.html", message=error.message(locale), code=error.status_code),
            error.status_code,
        )

    @app.errorhandler(413)
    def too_large(_error):
        from webapp.errors import PayloadTooLarge

        return domain_error(
            PayloadTooLarge(
                "Tệp tải lên quá lớn. Vui lòng gửi ảnh nhỏ hơn.",
                "The upload is too large. Please send smaller photos.",
            )
        )

    @app.errorhandler(404)
    def not_found(_error):
        from webapp.errors import NotFound

        return domain_error(NotFound("Không tìm thấy trang hoặc phản ánh.", "Not found."))
