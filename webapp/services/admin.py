"""Administration of agencies, users, categories/SLAs and routing rules, each change audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from webapp.errors import PermissionDenied, ValidationError
from webapp.extensions import db
from webapp.models import Agency, AuditEntry, Category, Role, RoutingRule, User


@dataclass(frozen=True)
class Field:
    """One editable attribute: name, label, kind (text|int|bool|choice|password), choices."""

    name: str
    label: str
    kind: str = "text"
    required: bool = False


@dataclass(frozen=True)
class Entity:
    """An administrable table."""

    key: str
    label: str
    model: type
    fields: tuple[Field, ...]
    order_by: str


ENTITIES: dict[str, Entity] = {
    e.key: e
    for e in (
        Entity(
            "agencies",
            "Cơ quan",
            Agency,
            (
                Field("code", "Mã", required=True),
                Field("name", "Tên", required=True),
                Field("name_en", "Tên tiếng Anh"),
                Field("kind", "Loại"),
                Field("parent_id", "Cơ quan cấp trên", "agency"),
                Field("email", "E-mail"),
                Field("phone", "Điện thoại"),
                Field("active", "Hoạt động", "bool"),
            ),
            "name",
        ),
        Entity(
            "users",
            "Tài khoản",
            User,
            (
                Field("email", "E-mail", required=True),
                Field("name", "Họ tên", required=True),
                Field("role", "Vai trò", "role", required=True),
                Field("agency_id", "Cơ quan", "agency"),
                Field("active", "Hoạt động", "bool"),
                Field("password", "Mật khẩu mới", "password"),
            ),
            "email",
        ),
        Entity(
            "categories",
            "Lĩnh vực và thời hạn",
            Category,
            (
                Field("code", "Mã", required=True),
                Field("name_vi", "Tên", required=True),
                Field("name_en", "Tên tiếng Anh", required=True),
                Field("default_urgency", "Mức độ mặc định", "urgency"),
                Field("sla_urgent_hours", "Khẩn: số giờ làm việc", "int"),
                Field("sla_normal_days", "Thông thường: số ngày làm việc", "int"),
                Field("sla_complex_days", "Phức tạp: số ngày làm việc", "int"),
                Field("active", "Hoạt động", "bool"),
            ),
            "sort_order",
        ),
        Entity(
            "rules",
            "Quy tắc phân công",
            RoutingRule,
            (
                Field("category_code", "Lĩnh vực (trống: mọi lĩnh vực)", "category"),
                Field("unit_code", "Mã xã/phường (trống: toàn tỉnh)"),
                Field("agency_id", "Cơ quan", "agency", required=True),
                Field("priority", "Thứ tự ưu tiên", "int"),
                Field("active", "Hoạt động", "bool"),
            ),
            "priority",
        ),
    )
}


def _require_admin(user: User) -> None:
    if user.role_enum is not Role.ADMIN:
        raise PermissionDenied("Chỉ quản trị viên được thay đổi.", "Administrators only.")


def snapshot(obj: Any, entity: Entity) -> dict[str, Any]:
    """The audited values of an object (never a password hash)."""
    return {f.name: getattr(obj, f.name, None) for f in entity.fields if f.kind != "password"}


def _parse(entity: Entity, form: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in entity.fields:
        raw = (form.get(f.name) or "").strip()
        if f.kind == "bool":
            values[f.name] = form.get(f.name) in ("on", "1", "true")
        elif f.kind in ("int", "agency"):
            if raw and not raw.isdigit():
                raise ValidationError(f"“{f.label}” phải là số.", f"{f.name} must be a number.")
            values[f.name] = int(raw) if raw else None
        elif f.kind == "role" and raw not in {r.value for r in Role}:
            raise ValidationError("Vai trò không hợp lệ.", "Invalid role.", field=f.name)
        elif f.kind == "urgency" and raw and raw not in ("urgent", "normal", "complex"):
            raise ValidationError("Mức độ không hợp lệ.", "Invalid urgency.", field=f.name)
        else:
            values[f.name] = raw or None
        if f.required and values.get(f.name) in (None, ""):
            raise ValidationError(f"Vui lòng nhập “{f.label}”.", f"{f.name} is required.")
    return values


def save(user: User, key: str, obj_id: str | None, form: dict[str, str]) -> Any:
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
    for name, value in values.items():
        setattr(obj, name, value)
    if isinstance(obj, User):
        if password:
            if len(password) < 10:
                raise ValidationError("Mật khẩu tối thiểu 10 ký tự.", "Password: 10+ characters.")
            obj.set_password(password)
        elif before is None:
            raise ValidationError("Tài khoản mới cần mật khẩu.", "A new account needs a password.")
    db.session.flush()
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
    return obj


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
