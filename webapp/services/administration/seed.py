"""Loading the data a province edits (config/) and the demo accounts."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import delete, select

from config.settings import ROOT
from webapp.extensions import db
from webapp.models import AdminUnit, Agency, Category, Role, RoutingRule, User

CONFIG_DIR = ROOT / "config"
DEMO_PASSWORD = "phananh-demo-2026"


def load_categories(path: Path = CONFIG_DIR / "categories.yml") -> int:
    """Insert or update the categories from YAML; returns how many."""
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    for order, row in enumerate(rows):
        cat = db.session.get(Category, row["code"]) or Category(code=row["code"])
        cat.name_vi, cat.name_en = row["vi"], row["en"]
        cat.default_urgency = row.get("urgency", "normal")
        cat.sla_urgent_hours = row.get("urgent_hours", 8)
        cat.sla_normal_days = row.get("normal_days", 5)
        cat.sla_complex_days = row.get("complex_days", 15)
        cat.sensitive = bool(row.get("sensitive", False))
        cat.sort_order = order
        db.session.add(cat)
    db.session.commit()
    return len(rows)


def _agency(code: str, **fields) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        agency = Agency(code=code)
        db.session.add(agency)
    for key, value in fields.items():
        setattr(agency, key, value)
    return agency


def load_agencies(province: str) -> int:
    """Insert or update the province's agencies and replace its routing rules."""
    spec = yaml.safe_load((CONFIG_DIR / "provinces" / province / "agencies.yml").read_text("utf-8"))
    wards = db.session.scalars(
        select(AdminUnit).where(AdminUnit.level == "ward", AdminUnit.parent_code == province)
    ).all()
    if not wards:
        raise RuntimeError(f"No communes/wards for province {province}: import boundaries first.")
    ioc = _agency(**spec["ioc"])
    by_code: dict[str, Agency] = {ioc.code: ioc}
    for row in spec["agencies"]:
        row = dict(row)
        parent = row.pop("parent", None)
        by_code[row["code"]] = _agency(**row)
        db.session.flush()
        by_code[row["code"]].parent = by_code.get(parent) if parent else None
    group_spec = spec["ward_committees"]
    group = _agency(**group_spec["parent"])
    committees: dict[str, Agency] = {}
    for ward in wards:
        committee = _agency(
            f"{group_spec['code_prefix']}{ward.code}",
            name=f"{group_spec['name_prefix']}{ward.full_name}",
            name_en=f"People's Committee of {ward.name_en or ward.name}",
            kind="ward_committee",
        )
        committee.parent = group
        committee.units = [ward]
        committees[ward.code] = committee
    db.session.flush()

    db.session.execute(delete(RoutingRule))
    for category, target in spec["routing"].items():
        if target == "ward":
            for ward_code, committee in committees.items():
                db.session.add(
                    RoutingRule(category_code=category, unit_code=ward_code, agency=committee)
                )
        else:
            db.session.add(RoutingRule(category_code=category, agency=by_code[target]))
    # Province-level fallback: anything else goes to the IOC for a decision.
    db.session.add(RoutingRule(category_code=None, unit_code=None, agency=ioc, priority=1000))
    db.session.commit()
    return len(by_code) + len(committees) + 1


DEMO_USERS = [
    # (email, name, role, agency code)
    ("admin@demo.vn", "Quản trị hệ thống", Role.ADMIN, None),
    ("dieuphoi@demo.vn", "Điều phối viên IOC", Role.IOC_OPERATOR, "IOC-DN"),
    ("giamsat@demo.vn", "Giám sát IOC", Role.IOC_VIEWER, "IOC-DN"),
    ("truongphong.chieusang@demo.vn", "Lãnh đạo Công ty Chiếu sáng", Role.AGENCY_LEAD, "CHIEUSANG"),
    ("chieusang@demo.vn", "Cán bộ Công ty Chiếu sáng", Role.AGENCY_STAFF, "CHIEUSANG"),
    ("moitruong@demo.vn", "Cán bộ Môi trường đô thị", Role.AGENCY_STAFF, "MTDT"),
    ("xaydung@demo.vn", "Lãnh đạo Sở Xây dựng", Role.AGENCY_LEAD, "SXD"),
]


def load_demo_users(password: str = DEMO_PASSWORD) -> list[tuple[str, str]]:
    """Create the demo accounts (one per role); returns (email, role) pairs."""
    created = []
    for email, name, role, agency_code in DEMO_USERS:
        agency = (
            db.session.scalar(select(Agency).where(Agency.code == agency_code))
            if agency_code
            else None
        )
        user = db.session.scalar(select(User).where(User.email == email)) or User(email=email)
        user.name, user.role, user.agency = name, role.value, agency
        user.set_password(password)
        db.session.add(user)
        created.append((email, role.value))
    db.session.commit()
    return created
