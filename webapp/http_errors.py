"""The one place where domain errors become HTTP responses."""

from __future__ import annotations

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from webapp.errors import DomainError


def _wants_json() -> bool:
    return (
        request.path.startswith("/api/")
        or request.path.endswith(".json")
        or request.accept_mimetypes.best == "application/json"
    )


def render_domain_error(error: DomainError) -> Response:
    """The JSON error (API) or the error page, with Retry-After where the error has one."""
    locale = str(get_locale() or "vi")
    if _wants_json():
        response = make_response(jsonify(error.to_dict(locale)), error.status_code)
    else:
        response = make_response(
            render_template("error.html", message=error.message(locale), code=error.status_code),
            error.status_code,
        )
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _refuse_nul_bytes() -> None:
    """No text a database can store holds a NUL byte: refuse it in the URL and form fields."""
    from webapp.errors import ValidationError

    fields = [request.path, *request.args.values()]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        fields.extend(request.form.values())
    if any("\x00" in value for value in fields):
        raise ValidationError(_l("Dữ liệu gửi lên chứa ký tự không hợp lệ."))


def register(app: Flask) -> None:
    """Install the error handlers."""
    app.before_request(_refuse_nul_bytes)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response:
        return render_domain_error(error)

    @app.errorhandler(413)
    def too_large(_error: HTTPException) -> Response:
        from webapp.errors import PayloadTooLarge

        return render_domain_error(
            PayloadTooLarge(
                _l("Tệp tải lên quá lớn. Vui lòng gửi ảnh nhỏ hơn."),
            )
        )

    @app.errorhandler(404)
    def not_found(_error: HTTPException) -> Response:
        from webapp.errors import NotFound

        return render_domain_error(NotFound(_l("Không tìm thấy trang hoặc phản ánh.")))

    @app.errorhandler(405)
    def not_allowed(_error: MethodNotAllowed) -> Response:
        from webapp.errors import DomainError as Error

        error = Error(_l("Phương thức không được hỗ trợ."))
        error.status_code, error.code = 405, "method_not_allowed"
        response = render_domain_error(error)
        response.headers["Allow"] = ", ".join(sorted(_error.valid_methods or []))
        return response

    @app.errorhandler(400)
    def bad_request(_error: HTTPException) -> Response:
        from webapp.errors import ValidationError

        error = ValidationError(_l("Yêu cầu không hợp lệ."))
        error.status_code, error.code = 400, "bad_request"
        return render_domain_error(error)
