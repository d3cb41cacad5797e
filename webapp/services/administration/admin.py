"""Administration of agencies, users, categories/SLAs and routing rules, each change audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.errors import PermissionDenied, ValidationError
from webapp.extensions import Model, db
from webapp.models import Agency, AuditEntry, Category, Role, RoutingRule, User
from webapp.models.agency import DELIVERY_MODES
from webapp.services.intake import questions
from webapp.services.ioc.queries import CONTROL_CHARS, MAX_ID
from webapp.services.staff import accounts, sessions

PASSWORD_MAX = 200  # characters; the hash is of fixed size, the work need not be unbounded


def N_(text: str) -> str:
    """Marks a label for the catalog; templates translate it when shown (`_(f.label)`)."""
    return text


@dataclass(frozen=True)
class Field:
    """One editable attribute: name, label, kind (text|int|bool|choice|password|secret|
    delivery|questions), choices; a secret is never shown nor audited, and blank keeps the
    stored one; questions are YAML as in config/categories.yml, kept when not posted.

    An int is written in ASCII digits, from 0 to `maximum`.
    """

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    maximum: int = MAX_ID


@dataclass(frozen=True)
class Entity:
    """An administrable table."""

    key: str
    label: str
    model: type[Model]
    fields: tuple[Field, ...]
    order_by: str


ENTITIES: dict[str, Entity] = {
    e.key: e
    for e in (
        Entity(
            "agencies",
            N_("Cơ quan"),
            Agency,
            (
                Field("code", N_("Mã"), required=True),
                Field("name", N_("Tên"), required=True),
                Field("name_en", N_("Tên tiếng Anh")),
                Field("kind", N_("Loại")),
                Field("parent_id", N_("Cơ quan cấp trên"), "agency"),
                Field("email", N_("E-mail")),
                Field("phone", N_("Điện thoại")),
                Field(
                    "delivery", N_("Nhận phản ánh qua (backoffice, open311, webhook)"), "delivery"
                ),
                Field("delivery_url", N_("Địa chỉ hệ thống của cơ quan")),
                Field(
                    "delivery_secret",
                    N_("Khóa API / bí mật ký webhook (để trống: giữ nguyên)"),
                    "secret",
                ),
                Field("active", N_("Hoạt động"), "bool"),
            ),
            "name",
        ),
        Entity(
            "users",
            N_("Tài khoản"),
            User,
            (
                Field("email", N_("E-mail"), required=True),
                Field("name", N_("Họ tên"), required=True),
                Field("role", N_("Vai trò"), "role", required=True),
                Field("agency_id", N_("Cơ quan"), "agency"),
                Field("active", N_("Hoạt động"), "bool"),
                Field("password", N_("Mật khẩu mới"), "password"),
            ),
            "email",
        ),
        Entity(
            "categories",
            N_("Lĩnh vực và thời hạn"),
            Category,
            (
                Field("code", N_("Mã"), required=True),
                Field("name_vi", N_("Tên"), required=True),
                Field("name_en", N_("Tên tiếng Anh"), required=True),
                Field("default_urgency", N_("Mức độ mặc định"), "urgency"),
                Field("sla_urgent_hours", N_("Khẩn: số giờ làm việc"), "int", maximum=24 * 365),
                Field("sla_normal_days", N_("Thông thường: số ngày làm việc"), "int", maximum=365),
                Field("sla_complex_days", N_("Phức tạp: số ngày làm việc"), "int", maximum=365),
                Field("questions", N_("Câu hỏi thêm"), "questions"),
                Field("active", N_("Hoạt động"), "bool"),
            ),
            "sort_order",
        ),
        Entity(
            "rules",
            N_("Quy tắc phân công"),
            RoutingRule,
            (
                Field("category_code", N_("Lĩnh vực (trống: mọi lĩnh vực)"), "category"),
                Field("unit_code", N_("Mã xã/phường (trống: toàn tỉnh)")),
                Field("agency_id", N_("Cơ quan"), "agency", required=True),
                Field("priority", N_("Thứ tự ưu tiên"), "int"),
                Field("active", N_("Hoạt động"), "bool"),
            ),
            "priority",
        ),
    )
}


def _require_admin(user: User) -> None:
    if user.role_enum is not Role.ADMIN:
        raise PermissionDenied(_l("Chỉ quản trị viên được thay đổi."))


def snapshot(obj: Any, entity: Entity) -> dict[str, Any]:
    """The audited values of an object (never a password hash)."""
    hidden = ("password", "secret")
    return {f.name: getattr(obj, f.name, None) for f in entity.fields if f.kind not in hidden}


def _max_length(entity: Entity, f: Field) -> int | None:
    if f.kind == "password":
        return PASSWORD_MAX
    column = entity.model.__table__.columns.get(f.name)
    return getattr(column.type, "length", None) if column is not None else None


def _number(f: Field, raw: str) -> int | None:
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10):
        raise ValidationError(_l("“%(label)s” phải là số.", label=_l(f.label)), field=f.name)
    if int(raw) > f.maximum:
        raise ValidationError(
            _l("“%(label)s” tối đa là %(maximum)s.", label=_l(f.label), maximum=f.maximum),
            field=f.name,
        )
    return int(raw)


def _check_text(entity: Entity, f: Field, raw: str) -> None:
    if CONTROL_CHARS.search(raw):
        raise ValidationError(
            _l("“%(label)s” chứa ký tự không hợp lệ.", label=_l(f.label)), field=f.name
        )
    limit = _max_length(entity, f)
    if limit and len(raw) > limit:
        raise ValidationError(
            _l("“%(label)s” quá dài (tối đa %(limit)s ký tự).", label=_l(f.label), limit=limit),
            field=f.name,
        )


def _parse(entity: Entity, form: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in entity.fields:
        raw = (form.get(f.name) or "").strip()
        if f.kind == "questions":
            if f.name in form:  # not posted (an older form, a script): kept as stored
                values[f.name] = questions.from_text(form[f.name])
            continue
        _check_text(entity, f, raw)
        if f.kind == "bool":
            values[f.name] = form.get(f.name) in ("on", "1", "true")
        elif f.kind in ("int", "agency"):
            values[f.name] = _number(f, raw)
        elif f.kind == "role" and raw not in {r.value for r in Role}:
            raise ValidationError(_l("Vai trò không hợp lệ."), field=f.name)
        elif f.kind == "urgency" and raw and raw not in ("urgent", "normal", "complex"):
            raise ValidationError(_l("Mức độ không hợp lệ."), field=f.name)
        elif f.kind == "delivery":
            if raw not in ("", *DELIVERY_MODES):
                raise ValidationError(_l("Cách nhận phản ánh không hợp lệ."), field=f.name)
            values[f.name] = raw or DELIVERY_MODES[0]
        else:
            values[f.name] = raw or None
        if f.required and values.get(f.name) in (None, ""):
            raise ValidationError(_l("Vui lòng nhập “%(label)s”.", label=_l(f.label)))
    return values


def save(user: User, key: str, obj_id: int | str | None, form: dict[str, str]) -> Any:
    """Create or update one object from a form and write the audit entry."""
    _require_admin(user)
    entity = ENTITIES[key]
    values = _parse(entity, form)
    obj = db.session.get(entity.model, obj_id) if obj_id else None
    before = snapshot(obj, entity) if obj is not None else None
    if obj is None:
        obj = entity.model()
        db.session.add(obj)
    password = values.pop("password", None)
    for f in entity.fields:  # a secret left blank keeps the one stored
        if f.kind == "secret" and not values.get(f.name):
            values.pop(f.name, None)
    for name, value in values.items():
        setattr(obj, name, value)
    if isinstance(obj, User):
        if password:
            accounts.set_password(obj, password)
        elif before is None:
            raise ValidationError(_l("Tài khoản mới cần mật khẩu."))
    try:
        db.session.flush()
    except IntegrityError:  # a code or e-mail taken, an agency, category or ward that is not
        db.session.rollback()
        raise ValidationError(
            _l(
                "Giá trị đã được dùng hoặc tham chiếu không tồn tại (mã, e-mail, cơ "
                "quan, lĩnh vực, xã/phường)."
            ),
        ) from None
    pk = getattr(obj, "id", None) or getattr(obj, "code", None)
    db.session.add(
        AuditEntry(
            actor_id=user.id,
            action="update" if before is not None else "create",
            entity=key,
            entity_id=str(pk),
            before=before,
            after=snapshot(obj, entity),
        )
    )
    db.session.commit()
    if isinstance(obj, User) and before is not None:
        _end_sessions_on_change(obj, before, bool(password))
    return obj


def _end_sessions_on_change(user: User, before: dict[str, Any], password_set: bool) -> None:
    """A new password, role or agency, or a deactivation ends every session of the user."""
    changed = [k for k in ("role", "agency_id", "active") if before.get(k) != getattr(user, k)]
    if password_set or changed:
        reason = "password" if password_set else ("deactivated" if not user.active else "role")
        sessions.end_all(user.id, reason)


def rows(key: str, limit: int = 500) -> list[Any]:
    """The objects of an entity, in its natural order."""
    entity = ENTITIES[key]
    return list(
        db.session.scalars(
            select(entity.model).order_by(getattr(entity.model, entity.order_by)).limit(limit)
        )
    )


def audit_trail(limit: int = 200) -> list[AuditEntry]:
    """The latest administrative changes."""
    return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
